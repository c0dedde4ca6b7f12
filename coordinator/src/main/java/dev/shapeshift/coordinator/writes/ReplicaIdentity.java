package dev.shapeshift.coordinator.writes;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In place, the source table's replica identity while writes are switched: FULL from the write
 * switch on (so the change stream shows old-shape writes), and the identity it had before given
 * back when the switch is undone, at rollback and at the contract. The identity before is kept in
 * {@code migration.replica_identity_before} (V17).
 */
public final class ReplicaIdentity {
    private static final Logger log = LoggerFactory.getLogger(ReplicaIdentity.class);

    private ReplicaIdentity() {
    }

    /**
     * In place, in the transaction of the move to {@code writes-switched}: gives the table {@code
     * REPLICA IDENTITY FULL}, so pgoutput sends the whole before image of every UPDATE and the bridge
     * can tell an application's write of the old columns (an instance still running the old code)
     * from a write of the new ones ({@code RecordReader.writesOldColumns}). The identity the table had
     * is recorded ({@code migration.replica_identity_before}, V17) and restored exactly when the write
     * switch is undone, at rollback and at the contract ({@link #restore}). The ALTER
     * takes the table's lock briefly, bounded by the same local {@code lock_timeout} as the NOT NULL
     * relax: a time-out fails the whole move (retryable), nothing half done. A table already FULL is
     * left as it is and nothing is recorded. Its cost: every UPDATE and DELETE of the table logs the
     * whole old row in the WAL until then (docs/phases.md gives the measured figure).
     */
    static void setFull(Connection c, String migration, MigrationSpec spec) throws SQLException {
        if (spec.mode() != dev.shapeshift.spec.Mode.IN_PLACE || WriteSwitch.oldColumnsNewCodeStopsWriting(spec).isEmpty()) {
            return;
        }
        String table = Ident.qualified(spec.source().schema(), spec.source().table());
        String previous = of(c, table);
        if ("FULL".equals(previous)) {
            return;
        }
        WriteSwitch.alterBriefly(c, table, "REPLICA IDENTITY FULL", "set REPLICA IDENTITY FULL on " + table);
        Sql.update(c, "UPDATE shapeshift.migration SET replica_identity_before = "
                + "coalesce(replica_identity_before, ?) WHERE name = ?", previous, migration);
        Catalog.audit(c, migration, "coordinator", "write switch set REPLICA IDENTITY FULL on " + table, null, null,
                "so the change stream shows which columns an application's UPDATE wrote (old-shape writes after the "
                + "switch); was " + previous + ", restored when the write switch is undone, at rollback and at the contract");
        log.info("write switch set replica identity full migration={} table={} was={}", migration, table, previous);
    }

    /** The table's replica identity as the clause that sets it: DEFAULT, NOTHING, FULL or USING INDEX "name". */
    public static String of(Connection c, String table) throws SQLException {
        String clause = Sql.one(c, "SELECT t.relreplident, (SELECT quote_ident(i.relname) FROM "
                + "pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = t.oid AND x.indisreplident) "
                + "FROM pg_class t WHERE t.oid = to_regclass(?)", rs -> switch (rs.getString(1)) {
                    case "f" -> "FULL";
                    case "n" -> "NOTHING";
                    case "i" -> rs.getString(2) == null ? "DEFAULT" : "USING INDEX " + rs.getString(2);
                    default -> "DEFAULT";
                }, table);
        if (clause == null) {
            throw new ShapeshiftException(ErrorCode.NOT_FOUND, "table " + table + " does not exist");
        }
        return clause;
    }

    /**
     * Gives the table back the replica identity it had before the write switch (recorded by {@link
     * #setFull}) in the caller's transaction, and forgets it; a no-op when nothing is
     * recorded. An index named by USING INDEX that is gone since falls back to DEFAULT (said so).
     * Returns what it did, or null.
     */
    public static String restore(Connection c, String migration) throws SQLException {
        String previous;
        String table;
        try (PreparedStatement ps = c.prepareStatement("SELECT replica_identity_before, spec::text FROM shapeshift.migration "
                + "WHERE name = ? FOR UPDATE")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getString(1) == null) {
                    return null;
                }
                previous = rs.getString(1);
                MigrationSpec spec = SpecJson.read(rs.getString(2));
                table = Ident.qualified(spec.source().schema(), spec.source().table());
            }
        }
        String done = previous;
        if (exists(c, table)) {
            try (Statement s = c.createStatement()) {
                s.execute("SAVEPOINT ss_identity");
                s.execute("ALTER TABLE " + table + " REPLICA IDENTITY " + previous);
                s.execute("RELEASE SAVEPOINT ss_identity");
            } catch (SQLException e) {
                if (!previous.startsWith("USING INDEX") || !"42704".equals(e.getSQLState())) {
                    throw e;
                }
                try (Statement s = c.createStatement()) {
                    s.execute("ROLLBACK TO SAVEPOINT ss_identity");
                    s.execute("ALTER TABLE " + table + " REPLICA IDENTITY DEFAULT");
                }
                done = "DEFAULT (the index of " + previous + " is gone)";
            }
        }
        Sql.update(c, "UPDATE shapeshift.migration SET replica_identity_before = NULL "
                + "WHERE name = ?", migration);
        log.info("replica identity restored migration={} table={} identity={}", migration, table, done);
        return "replica identity of " + table + " back to " + done;
    }

    /** {@link #restore(Connection, String)} in its own transaction, under the lock-safe DDL policy. */
    public static String restore(Database db, String migration) {
        return LockSafeDdl.of(db, "coordinator").inTransaction("restoring the replica identity of " + migration,
                c -> restore(c, migration));
    }

    private static boolean exists(Connection c, String table) throws SQLException {
        return Sql.one(c, "SELECT to_regclass(?) IS NOT NULL", rs -> rs.getBoolean(1), table);
    }
}
