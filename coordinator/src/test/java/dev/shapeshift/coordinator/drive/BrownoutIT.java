package dev.shapeshift.coordinator.drive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.contract.Brownout;
import dev.shapeshift.coordinator.contract.BrownoutReport;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.phase.Phase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The brownout, driven by the coordinator's driver: in contract-ready, once every other contract
 * check passes, the application roles lose access to the old column; the nightly export (a role
 * nobody registered, reading the old column only now) fails, is named from the server's CSV log by
 * role, application and statement, and access comes back at once (first failure) exactly as it was
 * granted. A quiet period later the driver runs another brownout, which passes and opens the
 * contract gate. Negative control: without the brownout the gate opens while the export, which
 * has not run within the quiet period, is never named.
 */
class BrownoutIT {
    private static EmbeddedPostgres pg;

    @BeforeAll
    static void start() {
        pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests()
                .withSetting("logging_collector", "on")
                .withSetting("log_destination", "stderr,csvlog")
                .withSetting("log_directory", "log"));
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void theExportFailsDuringTheWindowIsNamedAndAccessComesBackAsItWas() throws Exception {
        String suffix = Long.toHexString(System.nanoTime());
        String export = "export_" + suffix;
        String app = "app_" + suffix;
        Database db = setUp("brownout", export, app, "\"brownout\":\"4s\"");
        String acl = acl(db);
        Catalog catalog = new Catalog(db, "test");
        Transitions transitions = GateWiring.transitions(db, "coordinator");
        Brownout brownout = new Brownout(db);
        try (Driving ignored = new Driving(db, transitions)) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .until(() -> running(brownout.report("users-email")));
            BrownoutReport started = brownout.report("users-email");
            assertThat(started.lockedOut()).contains(export, app);
            // The application's own columns still work for it during the window.
            try (Connection c = Seed.connectAs(db, app, "x", "demo-app"); Statement s = c.createStatement()) {
                s.executeQuery("SELECT id, email FROM users WHERE id = 1").close();
                s.executeUpdate("UPDATE users SET email = 'x1' WHERE id = 1");
                s.executeUpdate("INSERT INTO users (id, email) VALUES (1000, 'new')");
                s.executeUpdate("DELETE FROM users WHERE id = 1000");
            }
            // The nightly export runs now: it fails until the driver sees it in the log and restores access.
            long firstFailure = 0;
            long restored;
            int failures = 0;
            try (Connection c = Seed.connectAs(db, export, "x", "nightly-export")) {
                while (true) {
                    try (Statement s = c.createStatement()) {
                        s.executeQuery("SELECT id, legacy_email FROM users ORDER BY id").close();
                        restored = System.nanoTime();
                        break;
                    } catch (SQLException e) {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        firstFailure = failures++ == 0 ? System.nanoTime() : firstFailure;
                        Thread.sleep(10);
                    }
                    assertThat(failures).as("the export is still locked out after many tries").isLessThan(6000);
                }
            }
            assertThat(failures).as("the export ran during the window").isPositive();
            await().atMost(Duration.ofSeconds(30)).until(() -> brownout.report("users-email").status() != Brownout.Status.RUNNING);
            BrownoutReport failed = brownout.report("users-email");
            assertThat(failed.status()).isEqualTo(Brownout.Status.FAILED);
            assertThat(failed.endReason()).contains("contract.brownoutAbortAfter: 1");
            assertThat(failed.failures()).anySatisfy(f -> {
                assertThat(f.role()).isEqualTo(export);
                assertThat(f.applicationName()).isEqualTo("nightly-export");
                assertThat(f.statement()).contains("legacy_email");
                assertThat(f.sqlState()).isEqualTo("42501");
            });
            assertThat(failed.failures()).extracting(BrownoutReport.Failure::role).doesNotContain(app);
            assertThat(acl(db)).as("access restored exactly as it was granted").isEqualTo(acl);
            System.out.printf("brownout undo: %.1f ms (undo transaction); the export's first failure to its first "
                    + "success: %d ms (log write + driver tick + undo), %d failed tries%n",
                    failed.undoMs(), (restored - firstFailure) / 1_000_000, failures);

            Check closed = brownoutCheck(transitions.check("users-email", Phase.CONTRACTED));
            assertThat(closed.passed()).isFalse();
            assertThat(closed.evidence()).contains("role " + export).contains("application nightly-export")
                    .contains("legacy_email");
            assertThat(catalog.get("users-email").message()).contains("brownout #" + failed.id() + " failed");

            // The export is gone: a quiet period later the driver runs another brownout; it passes and opens the gate.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                BrownoutReport b = brownout.report("users-email");
                return b.id() > failed.id() && b.status() == Brownout.Status.PASSED;
            });
            GateReport open = transitions.check("users-email", Phase.CONTRACTED);
            assertThat(brownoutCheck(open).passed()).isTrue();
            assertThat(open.open()).as(open.toString()).isTrue();
            assertThat(acl(db)).isEqualTo(acl);
        }
    }

    @Test
    void withoutABrownoutTheGateOpensAndTheExportIsNeverNamed() throws Exception {
        String suffix = Long.toHexString(System.nanoTime());
        String export = "export_" + suffix;
        Database db = setUp("no_brownout", export, "app_" + suffix, "\"quietPeriod\":\"2s\"");
        Transitions transitions = GateWiring.transitions(db, "coordinator");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> transitions.check("users-email", Phase.CONTRACTED).open());
        GateReport open = transitions.check("users-email", Phase.CONTRACTED);
        assertThat(open.checks()).noneMatch(c -> c.name().equals("brownout"));
        assertThat(open.toString()).doesNotContain(export);
        // ... and the export still reads the column the contract would drop.
        try (Connection c = Seed.connectAs(db, export, "x", "nightly-export"); Statement s = c.createStatement()) {
            s.executeQuery("SELECT id, legacy_email FROM users").close();
        }
    }

    @Test
    void aBrownoutStartedByAnOperatorIsEndedByADriverThatDidNotStartIt() throws Exception {
        String suffix = Long.toHexString(System.nanoTime());
        String app = "app_" + suffix;
        Database db = setUp("brownout_takeover", "export_" + suffix, app, "\"brownout\":\"2s\"");
        String gone = "gone_" + suffix;
        Seed.sql(db, "CREATE ROLE " + gone + " LOGIN PASSWORD 'x'", "GRANT SELECT ON users TO " + gone);
        String acl = acl(db);
        Brownout brownout = new Brownout(db);
        // started by hand (shapeshift brownout start); the coordinator that would watch it is not running
        BrownoutReport started = brownout.start("users-email", "operator");
        assertThat(started.status()).isEqualTo(Brownout.Status.RUNNING);
        assertThat(acl(db)).isNotEqualTo(acl);
        // a locked-out role dropped during the window: its GRANT in the undo fails, every other one still comes back
        Seed.sql(db, "DROP OWNED BY " + gone, "DROP ROLE " + gone);
        try (Connection c = Seed.connectAs(db, app, "x", "demo-app"); Statement s = c.createStatement()) {
            s.executeQuery("SELECT id, email FROM users").close();
        }
        Transitions transitions = GateWiring.transitions(db, "coordinator");
        try (Driving ignored = new Driving(db, transitions)) {   // a coordinator that starts (or takes over) later
            await().atMost(Duration.ofSeconds(60)).until(() -> brownout.report("users-email").status() != Brownout.Status.RUNNING);
        }
        BrownoutReport ended = brownout.report("users-email");
        assertThat(ended.status()).isEqualTo(Brownout.Status.PASSED);
        assertThat(ended.endReason()).startsWith("the window ended; ").contains("undo statement(s) failed")
                .contains(gone);
        assertThat(acl(db)).isEqualTo(java.util.Arrays.stream(acl.split("; ")).filter(e -> !e.contains(gone))
                .collect(java.util.stream.Collectors.joining("; ")));
    }

    @Test
    void aBrownoutThatCanLockNobodyOutRefusesToStartAndSaysWhy() throws Exception {
        String suffix = Long.toHexString(System.nanoTime());
        String owner = "owner_" + suffix;
        Database db = setUp("brownout_owner", "export_" + suffix, "app_" + suffix, "\"brownout\":\"2s\"");
        Seed.sql(db, "REVOKE ALL ON users FROM export_" + suffix + ", app_" + suffix,
                "CREATE ROLE " + owner + " LOGIN PASSWORD 'x'", "ALTER TABLE users OWNER TO " + owner);
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> new Brownout(db).start("users-email", "operator")))
                .hasMessageContaining("tests nothing").hasMessageContaining(owner + " (owns the table)");
        assertThat(new Brownout(db).report("users-email")).isNull();
    }

    @Test
    void tableModeLocksEveryoneOutOfTheOldTableAndGivesBackEveryGrantWithItsGrantOption() throws Exception {
        String suffix = Long.toHexString(System.nanoTime());
        String reader = "reader_" + suffix;
        String writer = "writer_" + suffix;
        Database db = new Database(pg.jdbcUrl(pg.createDatabase("brownout_table")), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        Seed.sql(db, "CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint, note text)",
                "INSERT INTO orders SELECT i, i * 100, 'n' FROM generate_series(1, 10) i",
                "CREATE ROLE " + reader + " LOGIN PASSWORD 'x'", "CREATE ROLE " + writer + " LOGIN PASSWORD 'x'",
                "GRANT SELECT ON orders TO " + reader + " WITH GRANT OPTION",
                "GRANT UPDATE (note) ON orders TO " + reader,
                "GRANT INSERT, UPDATE, DELETE ON orders TO " + writer);
        new Catalog(db, "test").create("orders-v2", "{\"name\":\"orders-v2\",\"source\":{\"table\":\"orders\"},"
                + "\"mode\":\"table\",\"target\":{\"table\":\"orders_v2\",\"columns\":[{\"name\":\"total\","
                + "\"type\":\"bigint\",\"transform\":\"total_cents\"}]},\"contract\":{\"dropTable\":true,"
                + "\"brownout\":\"1h\"}}", "test", "test");
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'contract-ready' WHERE name = 'orders-v2'");
        String acl = acl(db, "orders");
        Brownout brownout = new Brownout(db);
        assertThat(brownout.start("orders-v2", "operator").lockedOut()).containsExactlyInAnyOrder(reader, writer);
        for (String[] try_ : new String[][] {{reader, "SELECT id FROM orders"}, {writer, "DELETE FROM orders WHERE id = 1"},
                {reader, "UPDATE orders SET note = 'x' WHERE id = 2"}}) {
            try (Connection c = Seed.connectAs(db, try_[0], "x", "job"); Statement s = c.createStatement()) {
                SQLException denied = org.assertj.core.api.Assertions.catchThrowableOfType(SQLException.class,
                        () -> s.execute(try_[1]));
                assertThat(denied != null).as(try_[1] + " is refused").isTrue();
                assertThat(denied.getSQLState()).as(try_[1]).isEqualTo("42501");
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> brownout.watch("orders-v2").failureCount() >= 3);
        BrownoutReport ended = brownout.end("orders-v2", "operator", "test over", true);
        assertThat(ended.status()).isEqualTo(Brownout.Status.FAILED);
        assertThat(ended.failures()).extracting(BrownoutReport.Failure::role).contains(reader, writer);
        assertThat(ended.failures()).extracting(BrownoutReport.Failure::message).allMatch(m -> m.equals("permission denied for table orders"));
        assertThat(acl(db, "orders")).isEqualTo(acl).contains("SELECT true");
    }

    private static Check brownoutCheck(GateReport r) {
        return r.checks().stream().filter(c -> c.name().equals("brownout")).findFirst().orElseThrow();
    }

    private static boolean running(BrownoutReport b) {
        return b != null && b.status() == Brownout.Status.RUNNING;
    }

    /** A migration in contract-ready: in place, dropping legacy_email, quiet period 2s, a fresh reconcile run. */
    private static Database setUp(String prefix, String export, String app, String contractExtra) throws Exception {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase(prefix)), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        Seed.sql(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_email text, email2 text)",
                "INSERT INTO users SELECT i, 'u' || i, 'old' || i, 'old' || i FROM generate_series(1, 50) i",
                "CREATE ROLE " + export + " LOGIN PASSWORD 'x'",
                "GRANT SELECT ON users TO " + export,
                "GRANT SELECT (email) ON users TO " + export,
                "CREATE ROLE " + app + " LOGIN PASSWORD 'x'",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON users TO " + app);
        String m = "users-email";
        String extra = contractExtra.contains("quietPeriod") ? contractExtra : contractExtra + ",\"quietPeriod\":\"2s\"";
        new Catalog(db, "test").create(m, "{\"name\":\"" + m + "\",\"source\":{\"table\":\"users\"},\"mode\":\"in-place\","
                + "\"target\":{\"columns\":[{\"name\":\"email2\",\"type\":\"text\",\"transform\":\"legacy_email\"}]},"
                + "\"reconcile\":{\"interval\":\"1h\"},"
                + "\"contract\":{\"dropColumns\":[\"legacy_email\"]," + extra + "}}", "test", "test");
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'contract-ready', phase_changed_at = now() WHERE name = '" + m + "'",
                "INSERT INTO shapeshift.reconcile_run (migration, status, started_at, finished_at) "
                        + "VALUES ('" + m + "', 'done', now(), now())");
        new AccessWatch(db).baseline(m);
        return db;
    }

    /** The table's and its columns' privileges, one entry each, in a fixed order (the ACL's own order may change). */
    private static String acl(Database db) throws SQLException {
        return acl(db, "users");
    }

    private static String acl(Database db, String table) throws SQLException {
        try (Connection c = db.connect("test")) {
            return Sql.one(c, "SELECT string_agg(e, '; ' "
                    + "ORDER BY e) FROM (SELECT '(table) ' || a.grantee::regrole || ' ' || a.privilege_type || ' ' || a.is_grantable AS e "
                    + "FROM pg_class t, aclexplode(t.relacl) a WHERE t.oid = ?::regclass UNION ALL "
                    + "SELECT att.attname || ' ' || a.grantee::regrole || ' ' || a.privilege_type || ' ' || a.is_grantable "
                    + "FROM pg_attribute att, aclexplode(att.attacl) a WHERE att.attrelid = ?::regclass) x",
                    rs -> rs.getString(1), table, table);
        }
    }

    /** The coordinator's driver for the one migration, ticking every 100 ms on its own thread. */
    private static final class Driving implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        Driving(Database db, Transitions transitions) {
            MigrationDriver driver = new MigrationDriver("users-email", db, transitions,
                    DriveConfig.on("127.0.0.1:9", 1), new SimpleMeterRegistry(), stop::get, HaltPoint.NONE);
            thread = new Thread(() -> {
                while (!stop.get()) {
                    driver.tick();
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "brownout-it-driver");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(30_000);
        }
    }
}
