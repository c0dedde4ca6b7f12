package dev.shapeshift.coordinator.writes;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The old shape's NOT NULL constraints around the write switch (docs/phases.md, "The write
 * switch"): dropped at the switch on the old columns new code stops writing, restored without a
 * locking scan after the switch is undone. The columns in between are listed in {@code
 * migration.relaxed_not_null}.
 */
final class NotNullRelax {
    private static final Logger log = LoggerFactory.getLogger(NotNullRelax.class);

    private NotNullRelax() {
    }

    /**
     * In the transaction of the move to {@code writes-switched}, after the direction lock: drops NOT
     * NULL (metadata only, a brief ACCESS EXCLUSIVE lock bounded by a local {@code lock_timeout}) on
     * the old columns new code stops writing — those with a reverse transform and those the contract
     * drops, never key columns — and records them in {@code migration.relaxed_not_null}. A lock
     * time-out fails the whole move (retryable); nothing is half done.
     */
    static List<String> relax(Connection c, String migration, MigrationSpec spec) throws SQLException {
        Set<String> stopWriting = WriteSwitch.oldColumnsNewCodeStopsWriting(spec);
        if (stopWriting.isEmpty()) {
            return List.of();
        }
        String table = Ident.qualified(spec.source().schema(), spec.source().table());
        List<String> notNull = new ArrayList<>();
        notNull.addAll(Sql.list(c, "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = "
                + "to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull AND a.attname = ANY (?) "
                + "AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary "
                + "AND a.attnum = ANY (i.indkey)) ORDER BY a.attnum", rs -> rs.getString(1),
                table, c.createArrayOf("text", stopWriting.toArray())));
        if (notNull.isEmpty()) {
            return List.of();
        }
        WriteSwitch.alterBriefly(c, table, String.join(", ", notNull.stream()
                .map(col -> "ALTER COLUMN " + Ident.quote(col) + " DROP NOT NULL").toList()),
                "relax NOT NULL on " + notNull + " of " + table);
        Sql.update(c, "UPDATE shapeshift.migration SET relaxed_not_null = "
                + "ARRAY(SELECT DISTINCT unnest(relaxed_not_null || ?::text[])) WHERE name = ?",
                c.createArrayOf("text", notNull.toArray()), migration);
        Catalog.audit(c, migration, "coordinator", "write switch relaxed NOT NULL on " + notNull, null, null,
                "new code no longer writes them; restored (validated) if the write switch is undone");
        log.info("write switch relaxed NOT NULL migration={} columns={}", migration, notNull);
        return notNull;
    }

    /**
     * Restores NOT NULL on the relaxed columns without a locking scan: {@code CHECK (col IS NOT
     * NULL) NOT VALID}, {@code VALIDATE} (no exclusive lock), {@code SET NOT NULL} (PostgreSQL 12+
     * uses the validated check instead of scanning), then the check goes. A NULL the application
     * wrote meanwhile fails the validation: the constraint is left NOT VALID, the error names it,
     * and the column stays listed as relaxed (status: {@code writes.relaxedNotNull}). The driver's
     * next drain step tries again (every tick while it fails, with the driver's back-off), since a
     * column still listed as relaxed keeps the migration draining ({@code Snapshot.draining}).
     */
    static List<String> restore(Database db, String migration, MigrationSpec spec, List<String> relaxed) {
        if (relaxed.isEmpty()) {
            return List.of();
        }
        LockSafeDdl ddl = LockSafeDdl.of(db, "coordinator");
        String table = Ident.qualified(spec.source().schema(), spec.source().table());
        List<String> done = new ArrayList<>();
        for (String col : relaxed) {
            String check = Ident.quote(("ss_nn_" + col).length() > 63 ? ("ss_nn_" + col).substring(0, 63) : "ss_nn_" + col);
            String doing = "restoring NOT NULL on " + table + "." + col;
            ddl.inTransaction(doing, c -> {
                try (Statement s = c.createStatement()) {
                    s.execute("ALTER TABLE " + table + " DROP CONSTRAINT IF EXISTS " + check);
                    s.execute("ALTER TABLE " + table + " ADD CONSTRAINT " + check + " CHECK (" + Ident.quote(col)
                            + " IS NOT NULL) NOT VALID");
                }
                return null;
            });
            ddl.inTransaction(doing, c -> {
                try (Statement s = c.createStatement()) {
                    s.execute("ALTER TABLE " + table + " VALIDATE CONSTRAINT " + check);
                } catch (SQLException e) {
                    if ("23514".equals(e.getSQLState())) {
                        c.rollback();
                        throw nullsLeft(c, table, col, spec.source().key(), e);
                    }
                    throw e;
                }
                return null;
            });
            ddl.inTransaction(doing, c -> {
                try (Statement s = c.createStatement()) {
                    s.execute("ALTER TABLE " + table + " ALTER COLUMN " + Ident.quote(col) + " SET NOT NULL");
                    s.execute("ALTER TABLE " + table + " DROP CONSTRAINT " + check);
                }
                Sql.update(c, "UPDATE shapeshift.migration SET relaxed_not_null = "
                        + "array_remove(relaxed_not_null, ?) WHERE name = ?", col, migration);
                return null;
            });
            done.add(col);
        }
        log.info("NOT NULL restored after the write switch was undone migration={} columns={}", migration, done);
        return done;
    }

    /** A validation that failed on NULLs: how many rows and which keys, and what to do. */
    private static ShapeshiftException nullsLeft(Connection c, String table, String col, List<String> key,
                                                 SQLException cause) throws SQLException {
        List<String> columns = new ArrayList<>(key);
        if (columns.isEmpty()) { // the spec names no key: the table's primary key, as the migration uses it
            columns.addAll(Sql.list(c, "SELECT a.attname FROM pg_index i CROSS JOIN LATERAL "
                    + "unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) JOIN pg_attribute a ON a.attrelid = i.indrelid "
                    + "AND a.attnum = k.attnum WHERE i.indrelid = to_regclass(?) AND i.indisprimary ORDER BY k.n",
                    rs -> rs.getString(1), table));
        }
        String keys = columns.isEmpty() ? "ctid::text" : String.join(" || ',' || ", columns.stream()
                .map(k -> Ident.quote(k) + "::text").toList());
        long n;
        List<String> sample = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) OVER (), " + keys
                + " FROM " + table + " WHERE " + Ident.quote(col) + " IS NULL LIMIT 5")) {
            n = 0;
            while (rs.next()) {
                n = rs.getLong(1);
                sample.add(rs.getString(2));
            }
        }
        return new ShapeshiftException(ErrorCode.CONFLICT, "restoring NOT NULL on " + table + "." + col + " failed: "
                + n + " row(s) have " + col + " NULL (written while the write switch had relaxed it), e.g. key(s) "
                + sample + "; set them, e.g. UPDATE " + table + " SET " + Ident.quote(col) + " = … WHERE "
                + Ident.quote(col) + " IS NULL — the coordinator's driver tries again on its next drain step (the "
                + "constraint stays NOT VALID meanwhile: new NULLs are refused)", cause);
    }
}
