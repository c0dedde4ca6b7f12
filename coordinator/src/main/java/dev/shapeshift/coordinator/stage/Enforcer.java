package dev.shapeshift.coordinator.stage;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FindingStore;
import dev.shapeshift.catalog.FindingStore.Finding;
import dev.shapeshift.db.ConcurrentIndex;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.Structure;
import dev.shapeshift.spec.Structure.Item;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces the structure the new shape ends with, after the backfill (docs/constraints.md). For
 * each staged item not yet enforced in the database, a query first finds the rows that violate it
 * (duplicates of a unique key, NULLs, rows failing a check, orphans of a foreign key) and stores
 * them as findings; an item with findings is not enforced. A clean item is enforced, each statement
 * through {@link LockSafeDdl}:
 * <ul>
 *   <li>index: {@code CREATE [UNIQUE] INDEX CONCURRENTLY} ({@link ConcurrentIndex}: an INVALID
 *       index left by a failed build is dropped and built again);</li>
 *   <li>check, foreign key: added {@code NOT VALID} if the expand did not, then
 *       {@code VALIDATE CONSTRAINT} (SHARE UPDATE EXCLUSIVE: reads and writes go on);</li>
 *   <li>NOT NULL: {@code CHECK (col IS NOT NULL) NOT VALID} → {@code VALIDATE} → {@code SET NOT NULL}
 *       (PostgreSQL 12+ skips the scan, the valid check proves it) → drop the check.</li>
 * </ul>
 * An item is done only when the catalog says so ({@code indisvalid}, {@code convalidated},
 * {@code attnotnull}). Every step is idempotent: a killed coordinator's successor continues.
 */
public final class Enforcer {
    private static final Logger log = LoggerFactory.getLogger(Enforcer.class);

    /**
     * @param enforced items enforced by this pass or before
     * @param findings items left unenforced because rows violate them, with their findings
     */
    public record Result(List<String> enforced, List<Finding> findings) {
        public boolean done() {
            return findings.isEmpty();
        }
    }

    private final Database db;
    private final LockSafeDdl ddl;
    private final FindingStore store;

    public Enforcer(Database db, LockSafeDdl ddl) {
        this.db = db;
        this.ddl = ddl;
        this.store = new FindingStore(new Catalog(db, "coordinator"));
    }

    public Result run(String migration, ResolvedSpec resolved) {
        MigrationSpec spec = resolved.spec();
        List<String> enforced = new ArrayList<>();
        List<Finding> findings = new ArrayList<>();
        for (Item item : Structure.items(spec)) {
            try {
                if (!enforcedNow(spec, item)) {
                    List<Finding> found = violators(resolved, item);
                    store.replace(migration, item.label(), found);
                    if (!found.isEmpty()) {
                        log.warn("staged item has violating rows, not enforced migration={} item={} total={}", migration,
                                item.label(), found.get(0).total());
                        findings.addAll(found);
                        continue;
                    }
                    audit(migration, "enforce " + item.label() + ": 0 violating rows found", "looked before enforcing");
                    enforce(migration, spec, item);
                    if (!enforcedNow(spec, item)) {
                        throw new ShapeshiftException(ErrorCode.INTERNAL, item.label() + " of " + migration
                                + " is not enforced after its enforcement ran; the driver tries again");
                    }
                    log.info("staged item enforced migration={} item={}", migration, item.label());
                } else {
                    store.replace(migration, item.label(), List.of());
                    if (item.kind() == Structure.Kind.NOT_NULL) {
                        dropHelper(migration, spec, item);
                    }
                }
                enforced.add(item.label());
            } catch (SQLException e) {
                throw SqlStates.translate("enforcing " + item.label() + " of " + migration, e);
            }
        }
        return new Result(enforced, findings);
    }

    private boolean enforcedNow(MigrationSpec spec, Item item) throws SQLException {
        try (Connection c = db.connect("coordinator")) {
            return Structure.enforced(c, spec, item);
        }
    }

    private void enforce(String migration, MigrationSpec spec, Item item) throws SQLException {
        String t = table(spec);
        String doing = "enforcing " + item.label() + " on " + spec.targetSchema() + "." + spec.targetTable();
        switch (item.kind()) {
            case INDEX, UNIQUE_INDEX -> {
                String sql = "CREATE " + (item.kind() == Structure.Kind.UNIQUE_INDEX ? "UNIQUE " : "")
                        + "INDEX CONCURRENTLY IF NOT EXISTS " + Ident.quote(item.name()) + " ON " + t + " ("
                        + Ident.columnList(item.columns(), null) + ")" + (item.expression() == null ? "" : " WHERE "
                        + item.expression());
                ConcurrentIndex.Outcome outcome = ConcurrentIndex.build(ddl, t, item.name(), sql);
                audit(migration, "enforce " + item.label() + ": " + sql, outcome.name().toLowerCase(java.util.Locale.ROOT));
            }
            case CHECK, FOREIGN_KEY -> {
                if (!constraintExists(spec, item.name())) {
                    execute(migration, item, doing, Structure.addNotValid(spec, item));
                }
                execute(migration, item, doing, "ALTER TABLE " + t + " VALIDATE CONSTRAINT " + Ident.quote(item.name()));
            }
            case NOT_NULL -> {
                String col = Ident.quote(item.columns().get(0));
                if (!constraintExists(spec, item.name())) {
                    execute(migration, item, doing, "ALTER TABLE " + t + " ADD CONSTRAINT " + Ident.quote(item.name())
                            + " CHECK (" + col + " IS NOT NULL) NOT VALID");
                }
                execute(migration, item, doing, "ALTER TABLE " + t + " VALIDATE CONSTRAINT " + Ident.quote(item.name()));
                execute(migration, item, doing, "ALTER TABLE " + t + " ALTER COLUMN " + col + " SET NOT NULL");
                dropHelper(migration, spec, item);
            }
            default -> throw new IllegalStateException("no enforcement for " + item.kind());
        }
    }

    private void dropHelper(String migration, MigrationSpec spec, Item item) throws SQLException {
        if (constraintExists(spec, item.name())) {
            execute(migration, item, "dropping the helper check " + item.name(), "ALTER TABLE " + table(spec)
                    + " DROP CONSTRAINT IF EXISTS " + Ident.quote(item.name()));
        }
    }

    /** One enforcement statement, lock-safe, with its audit entry in the same transaction. */
    private void execute(String migration, Item item, String doing, String sql) {
        ddl.inTransaction(doing, c -> {
            try (Statement s = c.createStatement()) {
                s.execute(sql);
            }
            Catalog.audit(c, migration, "coordinator", "enforce " + item.label() + ": " + sql, null, null, doing);
            return null;
        });
    }

    private void audit(String migration, String action, String reason) throws SQLException {
        try (Connection c = db.connect("coordinator")) {
            Catalog.audit(c, migration, "coordinator", action, null, null, reason);
        }
    }

    private boolean constraintExists(MigrationSpec spec, String name) throws SQLException {
        try (Connection c = db.connect("coordinator"); PreparedStatement ps = c.prepareStatement("SELECT 1 FROM "
                + "pg_constraint WHERE conname = ? AND conrelid = to_regclass(?)")) {
            ps.setString(1, name);
            ps.setString(2, table(spec));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The rows that violate {@code item} now (at most {@link FindingStore#KEPT}, each with the total). */
    List<Finding> violators(ResolvedSpec resolved, Item item) throws SQLException {
        MigrationSpec spec = resolved.spec();
        String t = table(spec);
        String key = "jsonb_build_array(" + resolved.keyNames().stream().map(k -> "t." + Ident.quote(k) + "::text")
                .collect(Collectors.joining(", ")) + ")";
        String limit = " LIMIT " + FindingStore.KEPT;
        String sql;
        String kind;
        switch (item.kind()) {
            case UNIQUE_INDEX -> {
                String cols = item.columns().stream().map(c -> "t." + Ident.quote(c)).collect(Collectors.joining(", "));
                String notNull = item.columns().stream().map(c -> "t." + Ident.quote(c) + " IS NOT NULL")
                        .collect(Collectors.joining(" AND "));
                sql = "SELECT jsonb_agg(" + key + " ORDER BY " + key + ")::text, 'value (' || concat_ws(', ', "
                        + item.columns().stream().map(c -> "t." + Ident.quote(c) + "::text").collect(Collectors.joining(", "))
                        + ") || ') on ' || count(*) || ' rows', count(*) OVER () FROM " + t + " t WHERE " + notNull
                        + (item.expression() == null ? "" : " AND (" + item.expression() + ")")
                        + " GROUP BY " + cols + " HAVING count(*) > 1 ORDER BY 1" + limit;
                kind = "duplicate";
            }
            case NOT_NULL -> {
                sql = "SELECT " + key + "::text, NULL, count(*) OVER () FROM " + t + " t WHERE t."
                        + Ident.quote(item.columns().get(0)) + " IS NULL ORDER BY 1" + limit;
                kind = "null";
            }
            case CHECK -> {
                sql = "SELECT " + key + "::text, NULL, count(*) OVER () FROM " + t + " t WHERE NOT (" + item.expression()
                        + ") ORDER BY 1" + limit;
                kind = "check";
            }
            case FOREIGN_KEY -> {
                String col = "t." + Ident.quote(item.columns().get(0));
                sql = "SELECT " + key + "::text, 'no " + item.references().table().replace("'", "''") + "."
                        + item.references().column().replace("'", "''") + " = ' || " + col + "::text, count(*) OVER () FROM "
                        + t + " t WHERE " + col + " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                        + Structure.referenced(spec, item.references()) + " r WHERE r."
                        + Ident.quote(item.references().column()) + " = " + col + ") ORDER BY 1" + limit;
                kind = "orphan";
            }
            default -> {
                return List.of();
            }
        }
        List<Finding> out = new ArrayList<>();
        try (Connection c = db.connect("coordinator"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(new Finding(item.label(), kind, rs.getString(1), rs.getString(2), rs.getLong(3), null));
            }
        }
        return out;
    }

    private static String table(MigrationSpec spec) {
        return Ident.qualified(spec.targetSchema(), spec.targetTable());
    }
}
