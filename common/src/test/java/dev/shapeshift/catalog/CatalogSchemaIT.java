package dev.shapeshift.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every role runs {@link CatalogSchema#migrate} at start, in any order and at the same time. */
@ExtendWith(PostgresExtension.class)
class CatalogSchemaIT {

    @Test
    void rolesStartingAtTheSameTimeOnAFreshDatabaseAllSucceedAndApplyEachVersionOnce(PostgresServer pg)
            throws Exception {
        Database db = db(pg, "catconc");
        int roles = 4;
        CyclicBarrier together = new CyclicBarrier(roles);
        ExecutorService pool = Executors.newFixedThreadPool(roles);
        try {
            List<Future<Integer>> runs = new ArrayList<>();
            for (int i = 0; i < roles; i++) {
                runs.add(pool.submit((Callable<Integer>) () -> {
                    together.await();
                    return CatalogSchema.migrate(db);
                }));
            }
            int applied = 0;
            for (Future<Integer> f : runs) {
                applied += f.get();
            }
            assertThat(applied).as("versions applied over all roles").isEqualTo(versions(db));
        } finally {
            pool.shutdownNow();
        }
        assertThat(count(db, "SELECT count(*) FROM shapeshift.schema_history WHERE success AND type = 'SQL'")).isEqualTo(versions(db));
        assertThat(count(db, "SELECT count(*) FROM shapeshift.sync_stream")).isZero();
    }

    /** A catalog upgraded to V13 before V11 existed gets V11 late (out of order), not a validation failure. */
    @Test
    void aCatalogAtV13WithoutV11AppliesItLate(PostgresServer pg) throws SQLException {
        Database db = db(pg, "catlate");
        CatalogSchema.migrate(db);
        exec(db, "DELETE FROM shapeshift.schema_history WHERE version = '11'",
                "ALTER TABLE shapeshift.sync_stream DROP CONSTRAINT sync_stream_state_check",
                "ALTER TABLE shapeshift.sync_stream ADD CONSTRAINT sync_stream_state_check "
                        + "CHECK (state IN ('CATCHING_UP', 'RUNNING', 'STOPPED_POISON', 'STOPPED_ERROR'))");
        assertThat(CatalogSchema.migrate(db)).as("V11 applied late").isEqualTo(1);
        assertThat(count(db, "SELECT count(*) FROM pg_constraint WHERE conname = 'sync_stream_state_check' "
                + "AND pg_get_constraintdef(oid) LIKE '%DEGRADED%'")).isEqualTo(1);
    }

    @Test
    void aDatabaseWhoseOldBridgeMadeItsTablesAdHocIsBaselinedAndKeepsTheirRows(PostgresServer pg) throws SQLException {
        Database db = db(pg, "catadhoc");
        // Exactly what a cdc-bridge before catalog V5 created on its own.
        exec(db, "CREATE SCHEMA IF NOT EXISTS shapeshift",
                "CREATE TABLE IF NOT EXISTS shapeshift.bridge_capture (migration text PRIMARY KEY, "
                        + "source_table text NOT NULL, columns jsonb NOT NULL, captured_at timestamptz NOT NULL DEFAULT now(), "
                        + "stopped_at timestamptz, stop_reason text)",
                "CREATE TABLE IF NOT EXISTS shapeshift.heartbeat (slot_name text PRIMARY KEY, "
                        + "beat_at timestamptz NOT NULL DEFAULT now())",
                "INSERT INTO shapeshift.bridge_capture (migration, source_table, columns) VALUES ('m1', 'public.t', '{}')",
                "INSERT INTO shapeshift.heartbeat (slot_name) VALUES ('ss_slot')");

        CatalogSchema.migrate(db);

        assertThat(count(db, "SELECT count(*) FROM shapeshift.bridge_capture WHERE migration = 'm1'")).isEqualTo(1);
        assertThat(count(db, "SELECT count(*) FROM shapeshift.heartbeat")).isEqualTo(1);
        assertThat(count(db, "SELECT count(*) FROM shapeshift.schema_history WHERE type = 'BASELINE' AND version = '0'"))
                .isEqualTo(1);
        assertThat(count(db, "SELECT count(*) FROM shapeshift.schema_history WHERE success AND type = 'SQL'"))
                .isEqualTo(versions(db));
        assertThat(CatalogSchema.migrate(db)).as("a second start applies nothing").isZero();
    }

    @Test
    void aSchemaWithOtherObjectsAndNoHistoryIsRefusedWithTheFix(PostgresServer pg) throws SQLException {
        Database db = db(pg, "catforeign");
        exec(db, "CREATE SCHEMA shapeshift", "CREATE TABLE shapeshift.orders (id int)");
        assertThatThrownBy(() -> CatalogSchema.migrate(db)).isInstanceOf(ShapeshiftException.class)
                .hasMessageContaining("[orders]").hasMessageContaining("no catalog history table")
                .hasMessageContaining("ALTER SCHEMA shapeshift RENAME TO shapeshift_old")
                .satisfies(e -> assertThat(((ShapeshiftException) e).code()).as("the database's state, not the spec's fault")
                        .isEqualTo(dev.shapeshift.error.ErrorCode.CONFIG_INVALID));
        assertThat(count(db, "SELECT count(*) FROM shapeshift.orders")).as("nothing touched").isZero();
    }

    private static int versions(Database db) {
        // the scripts on the classpath, as Flyway resolves them (an independent count of the versions)
        return (int) java.util.Arrays.stream(org.flywaydb.core.Flyway.configure().dataSource(db.jdbcUrl(), db.user(),
                        db.password()).schemas(CatalogSchema.SCHEMA).table(CatalogSchema.HISTORY)
                .locations("classpath:db/shapeshift").load().info().all())
                .filter(i -> i.getType() == org.flywaydb.core.api.CoreMigrationType.SQL).count();
    }

    private static Database db(PostgresServer pg, String prefix) {
        return new Database(pg.jdbcUrl(pg.createDatabase(prefix)), pg.user(), pg.password());
    }

    private static void exec(Database db, String... sql) throws SQLException {
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }

    private static long count(Database db, String sql) throws SQLException {
        try (Connection c = db.connect("test"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
