package dev.shapeshift.worker.throttle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.Knob;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The load throttle's signals read from a real server: others' active sessions from
 * pg_stat_activity, others' statement time from pg_stat_statements, Shapeshift's own sessions and
 * role left out; the decision names the load.
 */
@ExtendWith(PostgresExtension.class)
class LoadSignalsIT {
    private static final String MIGRATION = "load-signals";
    private final PostgresServer pg;

    LoadSignalsIT(PostgresServer pg) {
        this.pg = pg;
    }

    @Test
    void othersActiveSessionsAndSlowStatementsHoldTheBackfillShapeshiftsOwnDoNot() throws Exception {
        String dbName = pg.createDatabase("load");
        Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        Catalog catalog = new Catalog(db, "test");
        catalog.create(MIGRATION, "{}", "test", "test");
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            s.execute("CREATE ROLE app_load LOGIN PASSWORD 'app'");
        }
        catalog.putSetting(MIGRATION, Knob.MAX_ACTIVE_BACKENDS.key(), "2", "test", "test");
        catalog.putSetting(MIGRATION, Knob.MAX_APP_LATENCY_MS.key(), "20", "test", "test");
        try (SignalCollector collector = new SignalCollector(new ChunkStore(catalog), MIGRATION, 0, Duration.ofSeconds(30),
                SyncBacklog.NONE, Limits.DEFAULT, Duration.ZERO)) {
            assertThat(decide(collector.current()).waits()).isFalse();

            // Shapeshift's own sessions (named shapeshift-*) running long statements are not the application's load.
            List<Thread> own = sleepers(3, () -> db.connect("worker"));
            awaitActive(db, "shapeshift-worker", 3);
            Signals quiet = collector.current();
            assertThat(quiet.load().activeBackends()).isZero();
            assertThat(decide(quiet).waits()).isFalse();

            // Three sessions of the application: over the cap of 2.
            List<Thread> app = sleepers(3, () -> appConnection(dbName));
            awaitActive(db, "app", 3);
            Signals busy = collector.current();
            assertThat(busy.load().activeBackends()).isEqualTo(3);
            assertThat(decide(busy).reason()).isEqualTo("load: 3 active sessions > 2");
            for (Thread t : app) {
                t.join();
            }
            for (Thread t : own) {
                t.join();
            }

            // Statement time: a baseline look, then the application's 40 ms statements.
            collector.current();
            try (Connection c = appConnection(dbName); Statement s = c.createStatement()) {
                for (int i = 0; i < 10; i++) {
                    s.execute("SELECT pg_sleep(0.04)");
                }
            }
            Signals slow = collector.current();
            assertThat(slow.load().appLatencyMs()).isGreaterThan(35.0);
            assertThat(decide(slow).reason()).startsWith("load: application statements ").endsWith(" ms > 20 ms");

            // The same statements by Shapeshift's role (the catalog's owner here) do not count: no statement of others since.
            try (Connection c = db.connect("worker"); Statement s = c.createStatement()) {
                for (int i = 0; i < 10; i++) {
                    s.execute("SELECT pg_sleep(0.04)");
                }
            }
            Signals ownOnly = collector.current();
            assertThat(ownOnly.load().appLatencyMs()).isNull();
            assertThat(decide(ownOnly).waits()).isFalse();

            // Knobs back to 0: nothing is read, nothing waits.
            catalog.putSetting(MIGRATION, Knob.MAX_ACTIVE_BACKENDS.key(), "0", "test", "test");
            catalog.putSetting(MIGRATION, Knob.MAX_APP_LATENCY_MS.key(), "0", "test", "test");
            assertThat(collector.current().load()).isEqualTo(new Signals.Load(0, null, 0, null));
        }
    }

    private static Decision decide(Signals signals) {
        return Throttler.decide(signals, Limits.DEFAULT, 0, Duration.ZERO);
    }

    private interface Opener {
        Connection open() throws SQLException;
    }

    private Connection appConnection(String dbName) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app_load");
        p.setProperty("password", "app");
        p.setProperty("ApplicationName", "app");
        return DriverManager.getConnection(pg.jdbcUrl(dbName), p);
    }

    private static List<Thread> sleepers(int n, Opener opener) {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> {
                try (Connection c = opener.open(); Statement s = c.createStatement()) {
                    s.execute("SELECT pg_sleep(4)");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            t.start();
            threads.add(t);
        }
        return threads;
    }

    private static void awaitActive(Database db, String applicationName, int n) {
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            try (Connection c = db.connect("probe"); Statement s = c.createStatement();
                 var rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE "
                         + "'SELECT pg_sleep(4)%' AND application_name = '" + applicationName + "'")) {
                rs.next();
                return rs.getInt(1) >= n;
            }
        });
    }
}
