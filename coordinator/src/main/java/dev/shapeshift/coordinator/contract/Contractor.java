package dev.shapeshift.coordinator.contract;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.contract.Archive.ArchivedColumn;
import dev.shapeshift.coordinator.gate.GateClosedException;
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The soft contract and its way back. {@link #contract} archives the old shape and removes it in
 * one transaction together with the move to {@code contracted} (the only irreversible phase
 * change): in-place mode copies the key and the old columns to {@code shapeshift_archive."<migration>"}
 * and drops the columns; table mode moves the old table into {@code shapeshift_archive} under the
 * migration's name. The data stays restorable ({@link #restore}) until {@link #dropArchive}, which
 * refuses before the spec's {@code contract.retention} unless forced with a reason. Everything is
 * audited.
 *
 * <p>Non-atomic gap, named honestly: in-place, the archive copy and the {@code DROP COLUMN} are one
 * transaction, but the copy does not block writers (only the drop takes the table lock, briefly,
 * with a short {@code lock_timeout}); a write to an old column between the copy and the drop would
 * be missing from the archive. The contract gate's evidence (no foreign access for the quiet
 * period, checked again just before) is what rules such writes out.
 */
public final class Contractor {
    private static final Logger log = LoggerFactory.getLogger(Contractor.class);
    static final String ROLE = "coordinator";

    private final Database db;
    private final Catalog catalog;
    private final Transitions transitions;

    /** @param transitions the phase machine with the contract gate installed ({@link AccessGate}) */
    public Contractor(Database db, Transitions transitions) {
        this.db = db;
        this.catalog = new Catalog(db, ROLE);
        this.transitions = transitions;
    }

    /**
     * {@code contract-ready → contracted}: checks the gate, then archives and drops the old shape
     * and moves the phase in one transaction. Idempotent: a contracted migration returns its archive.
     *
     * @return the archive, or empty when the spec drops nothing (table mode without {@code dropTable})
     * @throws GateClosedException naming the offending statements when the old shape is not quiet
     */
    public Optional<Archive> contract(String migration, String actor, String reason) {
        requireReason(reason);
        MigrationRecord m = catalog.get(migration);
        if (m.phase() == Phase.CONTRACTED) {
            return archive(migration);
        }
        if (m.phase() != Phase.CONTRACT_READY) {
            throw new ShapeshiftException(ErrorCode.ILLEGAL_TRANSITION, "migration " + migration + " is in phase "
                    + m.phase() + "; the contract needs contract-ready (its gate: no foreign access to the old shape "
                    + "for the quiet period)");
        }
        GateReport gate = transitions.check(migration, Phase.CONTRACTED);
        if (!gate.open()) {
            throw new GateClosedException(gate);
        }
        OldShape shape = OldShape.of(m);
        Tx.ddl(db, ROLE, "contracting " + migration, c -> {
            lockPhase(c, migration, Phase.CONTRACT_READY);
            ReadCounter.remove(c, migration, "contracted");
            dev.shapeshift.coordinator.writes.ReplicaIdentity.restore(c, migration);
            String what = "nothing to archive (contract.dropTable is false)";
            if (shape.dropsSomething()) {
                List<String> key = keyOf(c, shape);
                List<ArchivedColumn> columns = shape.inPlace() ? columnsOf(c, shape) : List.of();
                List<Archive.ArchivedStructure> structure = shape.inPlace()
                        ? Restore.structureOf(c, Ident.qualified(shape.schema(), shape.table()), shape.dropColumns())
                        : List.of();
                what = shape.inPlace() ? archiveColumns(c, shape, key) : archiveTable(c, shape);
                ArchiveStore.insert(c, shape, key, columns, structure);
            }
            Sql.update(c, "UPDATE shapeshift.migration SET phase = ?, message = ?, "
                    + "version = version + 1, updated_at = now(), phase_changed_at = now() WHERE name = ? AND phase = ?",
                    Phase.CONTRACTED.label(), reason, migration, Phase.CONTRACT_READY.label());
            audit(c, migration, actor, "transition", Phase.CONTRACT_READY, Phase.CONTRACTED, reason);
            audit(c, migration, actor, "contract: " + what, null, null, gate.summary());
            return null;
        });
        log.warn("migration contracted migration={} actor={}", migration, actor);
        return archive(migration);
    }

    /**
     * Puts the old shape back from the archive: in-place, re-adds the columns (type and default as
     * they were), refills them from the archive in checkpointed chunks and recreates the old shape's
     * NOT NULL, indexes and constraints, each step lock-safe ({@link Restore}); a restore that stopped
     * part-way continues from its checkpoint when run again. Table mode moves the table back. The
     * phase stays {@code contracted}. Rows inserted after the contract get the column default.
     */
    public Archive restore(String migration, String actor, String reason) {
        return restore(migration, actor, reason, Restore.DEFAULT_CHUNK_ROWS, p -> { });
    }

    /**
     * @param chunkRows archive rows refilled per transaction
     * @param progress  told after every committed chunk (the CLI prints it)
     */
    public Archive restore(String migration, String actor, String reason, int chunkRows,
                           java.util.function.Consumer<Restore.Progress> progress) {
        requireReason(reason);
        Archive a = requireRestorable(migration);
        String arc = Ident.qualified(Archive.SCHEMA, a.archiveTable());
        if (a.inPlace()) {
            new Restore(db, a, chunkRows, progress).run();
        }
        Tx.ddl(db, ROLE, "restoring " + migration, c -> {
            if (!a.inPlace()) {
                try (Statement s = c.createStatement()) {
                    if (!a.archiveTable().equals(a.sourceTable())) {
                        s.execute("ALTER TABLE " + arc + " RENAME TO " + Ident.quote(a.sourceTable()));
                    }
                    s.execute("ALTER TABLE " + Ident.qualified(Archive.SCHEMA, a.sourceTable()) + " SET SCHEMA "
                            + Ident.quote(a.sourceSchema()));
                }
            }
            ArchiveStore.restored(c, migration);
            audit(c, migration, actor, "restore: old shape put back from " + arc, null, null, reason);
            if (a.inPlace()) {
                audit(c, migration, actor, "restore: recreated " + Restore.describe(a) + (a.columns().stream()
                        .anyMatch(ArchivedColumn::notNull) ? " and NOT NULL on " + a.columns().stream()
                        .filter(ArchivedColumn::notNull).map(ArchivedColumn::name).toList() : ""), null, null, reason);
            }
            return null;
        });
        log.warn("old shape restored migration={} actor={}", migration, actor);
        return archive(migration).orElseThrow();
    }

    /**
     * Drops the archive for good. Before the retention has passed only with {@code force} and a reason.
     */
    public Archive dropArchive(String migration, boolean force, String actor, String reason) {
        Archive a = archive(migration).orElseThrow(() -> new ShapeshiftException(ErrorCode.NOT_FOUND,
                "migration " + migration + " has no archive (not contracted, or its contract dropped nothing)"));
        if (a.droppedAt() != null) {
            return a;
        }
        if (!a.restorable()) {
            throw new ShapeshiftException(ErrorCode.CONFLICT, "the archive of " + migration + " was restored at "
                    + a.restoredAt() + ": the table is the live table again; nothing to drop");
        }
        Instant now = Instant.now();
        if (now.isBefore(a.retainUntil())) {
            if (!force) {
                throw new ShapeshiftException(ErrorCode.GATE_CLOSED, "the archive of " + migration + " is retained until "
                        + a.retainUntil() + " (contract.retention); dropping it earlier needs --force and --reason");
            }
            requireReason(reason);
        }
        Tx.ddl(db, ROLE, "dropping the archive of " + migration, c -> {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS " + Ident.qualified(Archive.SCHEMA, a.archiveTable()));
            }
            ArchiveStore.dropped(c, migration, actor);
            audit(c, migration, actor, "drop-archive" + (now.isBefore(a.retainUntil()) ? " (forced before retention)" : ""),
                    null, null, reason == null ? "retention passed" : reason);
            return null;
        });
        log.warn("archive dropped migration={} actor={} forced={}", migration, actor, now.isBefore(a.retainUntil()));
        return archive(migration).orElseThrow();
    }

    public Optional<Archive> archive(String migration) {
        return Tx.run(db, ROLE, "reading the archive of " + migration, c -> ArchiveStore.read(c, migration));
    }

    private Archive requireRestorable(String migration) {
        Archive a = archive(migration).orElseThrow(() -> new ShapeshiftException(ErrorCode.NOT_FOUND,
                "migration " + migration + " has no archive: nothing to restore from"));
        if (a.droppedAt() != null) {
            throw new ShapeshiftException(ErrorCode.CONFLICT, "the archive of " + migration + " was dropped at "
                    + a.droppedAt() + " by " + a.droppedBy() + ": the old shape is gone");
        }
        if (a.restoredAt() != null) {
            throw new ShapeshiftException(ErrorCode.CONFLICT, "the old shape of " + migration + " was already restored at "
                    + a.restoredAt());
        }
        return a;
    }

    private static String archiveColumns(Connection c, OldShape shape, List<String> key) throws SQLException {
        String src = Ident.qualified(shape.schema(), shape.table());
        String arc = Ident.qualified(Archive.SCHEMA, shape.migration());
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS " + Ident.quote(Archive.SCHEMA));
            s.execute("CREATE TABLE " + arc + " AS SELECT " + Ident.columnList(key, null) + ", "
                    + Ident.columnList(shape.dropColumns(), null) + " FROM " + src);
            s.execute("ALTER TABLE " + arc + " ADD PRIMARY KEY (" + Ident.columnList(key, null) + ")");
            s.execute("ALTER TABLE " + src + " " + shape.dropColumns().stream()
                    .map(col -> "DROP COLUMN " + Ident.quote(col)).collect(Collectors.joining(", ")));
        }
        return "archived " + src + "(" + String.join(", ", shape.dropColumns()) + ") to " + arc + " and dropped the columns";
    }

    private static String archiveTable(Connection c, OldShape shape) throws SQLException {
        String src = Ident.qualified(shape.schema(), shape.table());
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS " + Ident.quote(Archive.SCHEMA));
            s.execute("ALTER TABLE " + src + " SET SCHEMA " + Ident.quote(Archive.SCHEMA));
            if (!shape.table().equals(shape.migration())) {
                s.execute("ALTER TABLE " + Ident.qualified(Archive.SCHEMA, shape.table()) + " RENAME TO "
                        + Ident.quote(shape.migration()));
            }
        }
        return "moved " + src + " to " + Ident.qualified(Archive.SCHEMA, shape.migration());
    }

    /** The key: the spec's, else the primary key in index order (read before anything is dropped). */
    static List<String> keyOf(Connection c, OldShape shape) throws SQLException {
        if (!shape.key().isEmpty()) {
            return shape.key();
        }
        List<String> out = new ArrayList<>();
        out.addAll(Sql.list(c, "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                + "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass(?) "
                + "AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)", rs -> rs.getString(1),
                Ident.qualified(shape.schema(), shape.table())));
        if (out.isEmpty() && shape.inPlace()) {
            throw new ShapeshiftException(ErrorCode.SPEC_INVALID, "table " + shape.schema() + "." + shape.table()
                    + " has no primary key and the spec names no source.key: the archive needs a key to restore by");
        }
        return out;
    }

    private static List<ArchivedColumn> columnsOf(Connection c, OldShape shape) throws SQLException {
        List<ArchivedColumn> out = new ArrayList<>();
        for (String col : shape.dropColumns()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT format_type(a.atttypid, a.atttypmod), "
                    + "pg_get_expr(d.adbin, d.adrelid), a.attnotnull FROM pg_attribute a LEFT JOIN pg_attrdef d "
                    + "ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = to_regclass(?) "
                    + "AND a.attname = ? AND a.attnum > 0 AND NOT a.attisdropped")) {
                ps.setString(1, Ident.qualified(shape.schema(), shape.table()));
                ps.setString(2, col);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ShapeshiftException(ErrorCode.SPEC_INVALID, "contract.dropColumns: column " + col
                                + " does not exist in " + shape.schema() + "." + shape.table());
                    }
                    out.add(new ArchivedColumn(col, rs.getString(1), rs.getString(2), rs.getBoolean(3)));
                }
            }
        }
        return out;
    }

    static void lockPhase(Connection c, String migration, Phase expected) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT phase FROM shapeshift.migration WHERE name = ? FOR UPDATE")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                String phase = rs.next() ? rs.getString(1) : null;
                if (!expected.label().equals(phase)) {
                    throw new ShapeshiftException(ErrorCode.CONFLICT, "migration " + migration + " is in phase " + phase
                            + ", not " + expected + "; it was moved concurrently — re-read its status and retry");
                }
            }
        }
    }

    static void audit(Connection c, String migration, String actor, String action, Phase from, Phase to, String reason)
            throws SQLException {
        dev.shapeshift.catalog.Catalog.audit(c, migration, actor, action, from, to, reason);
    }

    static void requireReason(String reason) {
        if (reason == null || reason.isBlank()) {
            throw new ShapeshiftException(ErrorCode.USAGE, "a reason is required (it goes to the audit log)");
        }
    }
}
