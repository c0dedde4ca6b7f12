package dev.shapeshift.coordinator.contract;

import dev.shapeshift.coordinator.contract.Archive.ArchivedColumn;
import dev.shapeshift.coordinator.contract.Archive.ArchivedStructure;
import dev.shapeshift.db.ConcurrentIndex;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-place restore (docs/contract.md, "Restore and drop"), in steps that each hold a lock only
 * briefly and can be resumed:
 * <ol>
 *   <li>{@code ADD COLUMN IF NOT EXISTS} with the archived type and default, through
 *       {@link LockSafeDdl} (metadata only), with {@code restore_started_at} in the same transaction;</li>
 *   <li>the refill: archive rows in key order, {@link #chunkRows} per transaction, each
 *       {@code UPDATE … FROM} the chunk committed together with the checkpoint (the chunk's last key in
 *       {@code contract_archive.restore_after}); a restore run again continues after the checkpoint;</li>
 *   <li>the old shape's structure as the contract archived it: indexes {@code CONCURRENTLY}
 *       ({@link ConcurrentIndex}), unique and primary keys {@code USING INDEX} of such an index, checks
 *       and foreign keys {@code NOT VALID} then {@code VALIDATE}, NOT NULL through
 *       {@code CHECK (col IS NOT NULL) NOT VALID} → {@code VALIDATE} → {@code SET NOT NULL} → drop
 *       the check.</li>
 * </ol>
 * Every step looks at the database first and skips what is there, so a restore killed anywhere is
 * finished by running it again. The caller marks the archive restored after {@link #run}.
 *
 * <p>Why one class of ~340 lines: one restore, step by step (columns, checkpointed refill, indexes,
 * constraints, NOT NULL), each step lock-safe and resumable from the same archive and checkpoint
 * ({@link ArchiveStore}).
 */
public final class Restore {
    private static final Logger log = LoggerFactory.getLogger(Restore.class);
    public static final int DEFAULT_CHUNK_ROWS = 5_000;

    /**
     * After each committed chunk.
     *
     * @param chunk        chunks refilled by this run
     * @param rows         archive rows refilled in total, earlier runs included
     * @param archiveRows  rows in the archive
     * @param checkpoint   the last key refilled (JSON array of the key columns' text forms)
     */
    public record Progress(int chunk, long rows, long archiveRows, String checkpoint) {
    }

    private final Database db;
    private final Archive archive;
    private final int chunkRows;
    private final Consumer<Progress> progress;
    private final LockSafeDdl ddl;
    private final String source;
    private final String arc;

    Restore(Database db, Archive archive, int chunkRows, Consumer<Progress> progress) {
        if (chunkRows < 1) {
            throw new ShapeshiftException(ErrorCode.USAGE, "--chunk-rows must be at least 1 (got " + chunkRows + ")");
        }
        this.db = db;
        this.archive = archive;
        this.chunkRows = chunkRows;
        this.progress = progress;
        this.ddl = LockSafeDdl.of(db, Contractor.ROLE);
        this.source = Ident.qualified(archive.sourceSchema(), archive.sourceTable());
        this.arc = Ident.qualified(Archive.SCHEMA, archive.archiveTable());
    }

    void run() {
        addColumns();
        refill();
        for (ArchivedStructure s : archive.structure()) {
            if (s.kind().equals("index") || s.indexDefinition() != null) {
                buildIndex(s.kind().equals("index") ? s.definition() : s.indexDefinition());
            }
        }
        for (ArchivedStructure s : archive.structure()) {
            if (!s.kind().equals("index")) {
                constraint(s);
            }
        }
        for (ArchivedColumn col : archive.columns()) {
            if (col.notNull()) {
                notNull(col.name());
            }
        }
    }

    private void addColumns() {
        ddl.inTransaction("restoring the columns of " + archive.migration(), c -> {
            try (Statement s = c.createStatement()) {
                s.execute("ALTER TABLE " + source + " " + archive.columns().stream().map(col -> "ADD COLUMN IF NOT EXISTS "
                        + Ident.quote(col.name()) + " " + col.type()
                        + (col.defaultExpr() == null ? "" : " DEFAULT " + col.defaultExpr()))
                        .collect(Collectors.joining(", ")));
            }
            ArchiveStore.restoreStarted(c, archive.migration());
            return null;
        });
    }

    /** The refill, chunk by chunk from the checkpoint; each chunk and its checkpoint commit together. */
    private void refill() {
        List<String> key = archive.keyColumns();
        List<String> types = Tx.run(db, Contractor.ROLE, "reading the archive's key types", c -> keyTypes(c, key));
        long total = Tx.run(db, Contractor.ROLE, "counting the archive", c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM " + arc)) {
                rs.next();
                return rs.getLong(1);
            }
        });
        String keyList = key.stream().map(k -> "a." + Ident.quote(k)).collect(Collectors.joining(", "));
        String order = key.stream().map(Ident::quote).collect(Collectors.joining(", "));
        String after = "(" + keyList + ") > (" + types.stream().map(t -> "?::" + t).collect(Collectors.joining(", ")) + ")";
        String cols = archive.columns().stream().map(col -> Ident.quote(col.name())).collect(Collectors.joining(", "));
        String chunk = "SELECT " + keyList + ", " + archive.columns().stream().map(col -> "a." + Ident.quote(col.name()))
                .collect(Collectors.joining(", ")) + " FROM " + arc + " a /*after*/ ORDER BY " + keyList + " LIMIT " + chunkRows;
        String update = "UPDATE " + source + " s SET " + archive.columns().stream()
                .map(col -> Ident.quote(col.name()) + " = b." + Ident.quote(col.name())).collect(Collectors.joining(", "))
                + " FROM b WHERE " + key.stream().map(k -> "s." + Ident.quote(k) + " = b." + Ident.quote(k))
                .collect(Collectors.joining(" AND "));
        String last = "jsonb_build_array(" + key.stream().map(k -> "b." + Ident.quote(k) + "::text")
                .collect(Collectors.joining(", ")) + ")";
        int chunks = 0;
        while (true) {
            int n = chunks + 1;
            Progress p = ddl.inTransaction("refilling " + cols + " of " + source + " (chunk " + n + ")", c -> {
                ArchiveStore.Checkpoint cp = ArchiveStore.restoreCheckpoint(c, archive.migration());
                String sql = "WITH b AS (" + chunk.replace("/*after*/", cp.after() == null ? "" : "WHERE " + after) + "), u AS ("
                        + update + " RETURNING 1) SELECT (SELECT count(*) FROM b), (SELECT " + last + "::text FROM b "
                        + "ORDER BY " + key.stream().map(k -> "b." + Ident.quote(k) + " DESC").collect(Collectors.joining(", "))
                        + " LIMIT 1), (SELECT count(*) FROM u)";
                long rows;
                String lastKey;
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    if (cp.after() != null) {
                        for (int i = 0; i < cp.after().size(); i++) {
                            ps.setString(i + 1, cp.after().get(i));
                        }
                    }
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        rows = rs.getLong(1);
                        lastKey = rs.getString(2);
                    }
                }
                if (rows == 0) {
                    return null;
                }
                ArchiveStore.restoreCheckpoint(c, archive.migration(), lastKey, rows);
                return new Progress(n, cp.rows() + rows, total, lastKey);
            });
            if (p == null) {
                break;
            }
            chunks = n;
            log.info("restore refilled a chunk migration={} chunk={} rows={} of={} checkpoint={}", archive.migration(),
                    p.chunk(), p.rows(), p.archiveRows(), p.checkpoint());
            progress.accept(p);
        }
    }

    private List<String> keyTypes(Connection c, List<String> key) throws SQLException {
        List<String> out = new ArrayList<>();
        for (String k : key) {
            try (PreparedStatement ps = c.prepareStatement("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    + "WHERE attrelid = to_regclass(?) AND attname = ? AND attnum > 0 AND NOT attisdropped")) {
                ps.setString(1, arc);
                ps.setString(2, k);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ShapeshiftException(ErrorCode.CONFLICT, "the archive " + arc + " has no key column " + k);
                    }
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private void buildIndex(String indexDefinition) {
        String concurrent = indexDefinition.replaceFirst("^CREATE (UNIQUE )?INDEX ", "CREATE $1INDEX CONCURRENTLY ");
        ConcurrentIndex.Target t = ConcurrentIndex.parse(concurrent).orElseThrow(() -> new ShapeshiftException(
                ErrorCode.INTERNAL, "cannot read the archived index definition: " + indexDefinition));
        ConcurrentIndex.build(ddl, t.table(), t.index(), concurrent);
    }

    private void constraint(ArchivedStructure s) {
        if (constraintExists(s.name())) {
            if (s.kind().equals("check") || s.kind().equals("foreign-key")) {
                statement("validating " + s.name(), "ALTER TABLE " + source + " VALIDATE CONSTRAINT " + Ident.quote(s.name()));
            }
            return;
        }
        String name = Ident.quote(s.name());
        switch (s.kind()) {
            case "unique", "primary-key" -> {
                String index = ConcurrentIndex.parse(s.indexDefinition().replaceFirst("^CREATE (UNIQUE )?INDEX ",
                        "CREATE $1INDEX CONCURRENTLY ")).orElseThrow().index();
                statement("restoring " + s.name(), "ALTER TABLE " + source + " ADD CONSTRAINT " + name + " "
                        + (s.kind().equals("unique") ? "UNIQUE" : "PRIMARY KEY") + " USING INDEX " + Ident.quote(index));
            }
            case "check", "foreign-key" -> {
                statement("restoring " + s.name(), "ALTER TABLE " + source + " ADD CONSTRAINT " + name + " "
                        + s.definition() + (s.definition().endsWith("NOT VALID") ? "" : " NOT VALID"));
                statement("validating " + s.name(), "ALTER TABLE " + source + " VALIDATE CONSTRAINT " + name);
            }
            // an exclusion constraint cannot be added from an index built concurrently: added in one
            // statement, which scans under the table's lock (docs/contract.md says so)
            default -> statement("restoring " + s.name(), "ALTER TABLE " + source + " ADD CONSTRAINT " + name + " "
                    + s.definition());
        }
    }

    /** NOT NULL without a locking scan; NULLs (rows inserted after the contract, no default) stop it with their keys. */
    private void notNull(String column) {
        String col = Ident.quote(column);
        boolean already = Tx.run(db, Contractor.ROLE, "reading NOT NULL of " + column, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT attnotnull FROM pg_attribute WHERE attrelid = "
                    + "to_regclass(?) AND attname = ?")) {
                ps.setString(1, source);
                ps.setString(2, column);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getBoolean(1);
                }
            }
        });
        String check = ("ss_restore_nn_" + column).length() > 63 ? ("ss_restore_nn_" + column).substring(0, 63)
                : "ss_restore_nn_" + column;
        if (!already) {
            List<String> nulls = Tx.run(db, Contractor.ROLE, "looking for NULLs in " + column, c -> {
                List<String> out = new ArrayList<>();
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT jsonb_build_array("
                        + archive.keyColumns().stream().map(k -> Ident.quote(k) + "::text").collect(Collectors.joining(", "))
                        + ")::text FROM " + source + " WHERE " + col + " IS NULL LIMIT 10")) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
                return out;
            });
            if (!nulls.isEmpty()) {
                throw new ShapeshiftException(ErrorCode.CONFLICT, "restoring " + archive.migration() + ": " + source + "."
                        + column + " was NOT NULL, but rows have no value for it (rows inserted after the contract, and "
                        + "the column has no default), e.g. keys " + String.join(" ", nulls) + ": fill them, then run "
                        + "`shapeshift restore " + archive.migration() + "` again (it continues where it stopped)");
            }
            if (!constraintExists(check)) {
                statement("restoring NOT NULL on " + column, "ALTER TABLE " + source + " ADD CONSTRAINT "
                        + Ident.quote(check) + " CHECK (" + col + " IS NOT NULL) NOT VALID");
            }
            statement("restoring NOT NULL on " + column, "ALTER TABLE " + source + " VALIDATE CONSTRAINT " + Ident.quote(check));
            statement("restoring NOT NULL on " + column, "ALTER TABLE " + source + " ALTER COLUMN " + col + " SET NOT NULL");
        }
        if (constraintExists(check)) {
            statement("dropping the helper check " + check, "ALTER TABLE " + source + " DROP CONSTRAINT IF EXISTS "
                    + Ident.quote(check));
        }
    }

    private void statement(String doing, String sql) {
        ddl.inTransaction(doing + " of " + archive.migration(), c -> {
            try (Statement s = c.createStatement()) {
                s.execute(sql);
            }
            return null;
        });
    }

    private boolean constraintExists(String name) {
        return Tx.run(db, Contractor.ROLE, "looking up constraint " + name, c -> {
            return Sql.exists(c, "SELECT 1 FROM pg_constraint WHERE conname = ? "
                    + "AND conrelid = to_regclass(?)", name, source);
        });
    }

    /**
     * The indexes and constraints of {@code table} that use any of {@code columns} (read at the
     * contract, before the columns are dropped): an index through {@code pg_depend} (its columns,
     * expressions or predicate), a constraint through {@code conkey}. Indexes behind a constraint
     * are recorded with the constraint.
     */
    static List<ArchivedStructure> structureOf(Connection c, String table, List<String> columns) throws SQLException {
        List<ArchivedStructure> out = new ArrayList<>();
        java.sql.Array names = c.createArrayOf("text", columns.toArray());
        out.addAll(Sql.list(c, "SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                + "JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = to_regclass(?) AND NOT EXISTS (SELECT 1 "
                + "FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid) AND EXISTS (SELECT 1 "
                + "FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
                + "WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid AND d.refobjid = i.indrelid "
                + "AND a.attname = ANY (?)) ORDER BY ic.relname",
                rs -> new ArchivedStructure("index", rs.getString(1), rs.getString(2), null), table, names));
        Sql.each(c, "SELECT k.conname, k.contype, pg_get_constraintdef(k.oid), "
                + "CASE WHEN k.contype IN ('u', 'p') THEN pg_get_indexdef(k.conindid) END FROM pg_constraint k "
                + "WHERE k.conrelid = to_regclass(?) AND k.contype IN ('c', 'f', 'u', 'p', 'x') AND EXISTS (SELECT 1 "
                + "FROM pg_attribute a WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) AND a.attname = ANY (?)) "
                + "ORDER BY k.contype, k.conname", rs -> {
                String kind = switch (rs.getString(2)) {
                    case "c" -> "check";
                    case "f" -> "foreign-key";
                    case "u" -> "unique";
                    case "p" -> "primary-key";
                    default -> "exclusion";
                };
                out.add(new ArchivedStructure(kind, rs.getString(1), rs.getString(3), rs.getString(4)));
            }, table, names);
        return out;
    }

    /** Written to the audit log when the restore finished. */
    static String describe(Archive a) {
        return a.structure().isEmpty() ? "no index or constraint on the old columns"
                : a.structure().stream().map(s -> s.kind() + " " + s.name()).collect(Collectors.joining(", "));
    }
}
