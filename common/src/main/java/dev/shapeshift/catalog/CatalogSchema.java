package dev.shapeshift.catalog;

import dev.shapeshift.db.Database;
import dev.shapeshift.db.ServerVersion;
import dev.shapeshift.db.Sql;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates and upgrades the catalog schema ({@code shapeshift}) in the source database with
 * Flyway; the versioned scripts live in {@code db/shapeshift}. It is the one way any role creates
 * catalog objects, and every role (coordinator, worker, cdc-bridge) runs it at start, in any order
 * and at the same time: runs are serialised by a session advisory lock held around the whole
 * migration (Flyway's own PostgreSQL lock covers only the migrations, not the creation of the
 * schema and of its history table, where two fresh starts race), and applied versions are skipped.
 *
 * <p>A database whose cdc-bridge (before catalog V5) created {@code shapeshift.bridge_capture} and
 * {@code shapeshift.heartbeat} itself has a schema without Flyway history: it is baselined at
 * version 0 and migrated from V1 (V5 keeps those two tables and their rows). Any other content in
 * a schema without history is refused with the fix in the message.
 */
public final class CatalogSchema {
    public static final String SCHEMA = "shapeshift";
    static final String HISTORY = "schema_history";
    /** The advisory lock key of catalog migrations ('SSCATMIG'). */
    static final long LOCK = 0x535343_41544d4947L;
    /** What a cdc-bridge created before its tables were part of the catalog's history. */
    static final Set<String> AD_HOC_BRIDGE_TABLES = Set.of("bridge_capture", "heartbeat");
    private static final Logger log = LoggerFactory.getLogger(CatalogSchema.class);

    private CatalogSchema() {
    }

    public static int migrate(Database db) {
        try (Connection lock = db.connect("catalog-migrate")) {
            ServerVersion.require(lock, db.safeUrl());
            try (PreparedStatement ps = lock.prepareStatement("SELECT pg_advisory_lock(?)")) {
                ps.setLong(1, LOCK);
                ps.executeQuery().close();
            }
            try {
                return migrateHoldingLock(db, lock);
            } finally {
                try (PreparedStatement ps = lock.prepareStatement("SELECT pg_advisory_unlock(?)")) {
                    ps.setLong(1, LOCK);
                    ps.executeQuery().close();
                }
            }
        } catch (SQLException e) {
            throw SqlStates.translate("locking the catalog schema for its migration in " + db.safeUrl(), e);
        }
    }

    /**
     * Flyway's own connections as a Shapeshift session ({@code shapeshift-catalog-migrate}): with the
     * driver's default name they were the one unnamed session of Shapeshift's role, which made the
     * contract gate take the role for one shared with the application (docs/contract.md).
     */
    static String named(String jdbcUrl) {
        if (jdbcUrl.contains("ApplicationName=")) {
            return jdbcUrl;
        }
        return jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "ApplicationName=" + Database.APPLICATION_PREFIX
                + "catalog-migrate&assumeMinServerVersion=" + Database.ASSUME_MIN_SERVER_VERSION;
    }

    private static int migrateHoldingLock(Database db, Connection c) throws SQLException {
        boolean baseline = adHocBridgeSchema(c, db);
        try {
            MigrateResult result = Flyway.configure()
                    .dataSource(named(db.jdbcUrl()), db.user(), db.password())
                    .schemas(SCHEMA)
                    .defaultSchema(SCHEMA)
                    .createSchemas(true)
                    .locations("classpath:db/shapeshift")
                    .table(HISTORY)
                    // V11 and V12 were numbered after V13 shipped: a catalog already at V13 applies them late
                    // instead of failing validation ("resolved migration not applied").
                    .outOfOrder(true)
                    .baselineOnMigrate(baseline)
                    .baselineVersion("0")
                    .baselineDescription("tables of a pre-V5 cdc-bridge")
                    .load()
                    .migrate();
            log.info("catalog schema ready schema={} applied={} version={} baselined={}", SCHEMA,
                    result.migrationsExecuted, result.targetSchemaVersion, baseline);
            return result.migrationsExecuted;
        } catch (FlywayException e) {
            throw new ShapeshiftException(ErrorCode.UNREACHABLE,
                    "could not create or upgrade the catalog schema in " + db.safeUrl() + ": " + e.getMessage(), e);
        }
    }

    /**
     * True when the schema exists without Flyway history and holds only the pre-V5 bridge tables;
     * throws when it holds anything else (never guess about a schema we did not make).
     */
    private static boolean adHocBridgeSchema(Connection c, Database db) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, SCHEMA + "." + HISTORY);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return false;
                }
            }
        }
        List<String> objects = new ArrayList<>();
        objects.addAll(Sql.list(c, "SELECT c.relname FROM pg_class c JOIN pg_namespace n "
                + "ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
                + "ORDER BY 1", rs -> rs.getString(1), SCHEMA));
        if (objects.isEmpty()) {
            return false;
        }
        if (AD_HOC_BRIDGE_TABLES.containsAll(objects)) {
            log.info("catalog schema has pre-V5 bridge tables without history, baselining at 0 tables={}", objects);
            return true;
        }
        throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "schema " + SCHEMA + " in " + db.safeUrl()
                + " has objects " + objects + " but no catalog history table " + SCHEMA + "." + HISTORY
                + ": it was not made by Shapeshift's catalog migration. Rename or drop that schema (e.g. ALTER SCHEMA "
                + SCHEMA + " RENAME TO " + SCHEMA + "_old) and start again; Shapeshift keeps its catalog only in "
                + "schema " + SCHEMA + ".");
    }
}
