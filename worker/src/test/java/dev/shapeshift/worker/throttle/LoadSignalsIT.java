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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
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

    /** A test's database and its catalog, with the collector of the test's migration. */
    private record Load(Database db, Catalog catalog) {
        void set(Knob knob, String value) throws Exception {
            catalog.putSetting(MIGRATION, knob.key(), value, "test", "test");
        }

        SignalCollector collector() {
            return new SignalCollector(new ChunkStore(catalog), MIGRATION, 0, Duration.ofSeconds(30),
                    SyncBacklog.NONE, Limits.DEFAULT, Duration.ZERO);
        }
    }

    /** A new database {@code name}: the catalog with the test's migration, pg_stat_statements, and the application's own role. */
    private Load load(String name) throws Exception {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase(name)), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        Catalog catalog = new Catalog(db, "test");
        catalog.create(MIGRATION, "{}", "test", "test");
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            s.execute("DO $$ BEGIN CREATE ROLE app_load LOGIN PASSWORD 'app'; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        }
        return new Load(db, catalog);
    }

    @Test
    void othersActiveSessionsAndSlowStatementsHoldTheBackfillShapeshiftsOwnDoNot() throws Exception {
        Load load = load("load");
        load.set(Knob.MAX_ACTIVE_BACKENDS, "2");
        load.set(Knob.MAX_APP_LATENCY_MS, "20");
        Database db = load.db();
        try (SignalCollector collector = load.collector()) {
            assertThat(decide(collector.current()).waits()).isFalse();

            // Shapeshift's own sessions (named shapeshift-*) running long statements are not the application's load.
            List<Thread> own = sleepers(3, () -> db.connect("worker"));
            awaitActive(db, "shapeshift-worker", 3);
            Signals quiet = collector.current();
            assertThat(quiet.load().activeBackends()).isZero();
            assertThat(decide(quiet).waits()).isFalse();

            // Three sessions of the application: over the cap of 2.
            List<Thread> app = sleepers(3, () -> appConnection(load.db()));
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
            try (Connection c = appConnection(load.db()); Statement s = c.createStatement()) {
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
            load.set(Knob.MAX_ACTIVE_BACKENDS, "0");
            load.set(Knob.MAX_APP_LATENCY_MS, "0");
            assertThat(collector.current().load()).isEqualTo(Signals.Load.NONE);
        }
    }

    @Test
    void theAppLatencyPctCapMeasuresItsBaselineBeforeCopyingThenHoldsWhileTheApplicationIsSlowerThanThat() throws Exception {
        Load load = load("loadpct");
        load.set(Knob.MAX_APP_LATENCY_PCT, "50");
        AtomicReference<String> statement = new AtomicReference<>("SELECT pg_sleep(0.01)");
        AtomicBoolean stop = new AtomicBoolean();
        Thread app = new Thread(() -> {
            try (Connection c = appConnection(load.db()); Statement s = c.createStatement()) {
                while (!stop.get()) {
                    s.execute(statement.get());
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        try (SignalCollector collector = load.collector()) {
            // No baseline yet: the backfill waits, saying why, until it has measured one with no worker copying.
            assertThat(decide(collector.current()).reason()).startsWith("load: measuring the application's statement time");
            app.start();
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> !collector.current().load().cap().measuring());
            // Stored for every worker, audited; the application's statements sleep 10 ms, so no less than that.
            long baselineUs = Long.parseLong(load.catalog().setting(MIGRATION, Knob.APP_LATENCY_BASELINE_US.key()).orElseThrow());
            assertThat(baselineUs).isBetween(10_000L, 200_000L);
            // The same statements as before: within the cap, the backfill goes.
            Signals same = collector.current();
            assertThat(same.load().cap().baselineMs()).isEqualTo(baselineUs / 1000.0);
            assertThat(decide(same).waits()).isFalse();

            // The application's statements now take four times as long: more than 50% above the baseline, it waits.
            statement.set("SELECT pg_sleep(0.04)");
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> decide(collector.current()).reason().startsWith("load: application statements "));
            assertThat(decide(collector.current()).reason()).contains("before the backfill > 50%");

            // Negative control: the same slow statements against a baseline an operator set higher do not hold it.
            load.set(Knob.APP_LATENCY_BASELINE_US, "100000");
            Signals raised = collector.current();
            assertThat(raised.load().cap().baselineMs()).isEqualTo(100.0);
            assertThat(decide(raised).waits()).isFalse();

            // Cap off: nothing is compared.
            load.set(Knob.MAX_APP_LATENCY_PCT, "0");
            assertThat(collector.current().load().cap()).isEqualTo(Signals.LatencyCap.OFF);
        } finally {
            stop.set(true);
            app.join();
        }
    }

    private static Decision decide(Signals signals) {
        return Throttler.decide(signals, Limits.DEFAULT, 0, Duration.ZERO);
    }

    private interface Opener {
        Connection open() throws SQLException;
    }

    private static Connection appConnection(Database db) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app_load");
        p.setProperty("password", "app");
        p.setProperty("ApplicationName", "app");
        return DriverManager.getConnection(db.jdbcUrl(), p);
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
