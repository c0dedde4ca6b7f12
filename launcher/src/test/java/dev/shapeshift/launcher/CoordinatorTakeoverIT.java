package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.coordinator.drive.DriveLoop;
import dev.shapeshift.coordinator.drive.HaltPoint;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13: the driving coordinator dies at four step boundaries of one migration and each time a
 * standby takes over. Every Shapeshift process is a child JVM started with the commands a user
 * runs (five coordinators, a cdc-bridge, a worker; {@code shapeshift start}, then the approvals
 * from the CLI) under an application's write load. The leader is killed by its own fault-injection
 * hook ({@link HaltPoint}, {@code -Dshapeshift.fault.haltAt=…}: {@code Runtime.halt(137)}, as abrupt
 * as SIGKILL) exactly at
 *
 * <ol>
 *   <li>{@code expand-ddl} — after the expand's DDL committed, before the move to {@code expanded};</li>
 *   <li>{@code plan-stored} — mid-planning: the chunk plan committed, no chunk task published, still {@code syncing};</li>
 *   <li>{@code reconcile-range:2} — mid-reconcile: two ranges of the run after the backfill checkpointed;</li>
 *   <li>{@code phase-reads-switched} — between {@code reads-switched} (approved from the CLI) and {@code contract-ready}.</li>
 * </ol>
 *
 * All five coordinators are armed alike and start together: a point halts one coordinator once
 * per migration (the hook audits the halt first and passes a point already audited), so whichever
 * standby wins the lock takes over, passes the point and halts at the next; the fifth finishes.
 * Every check is this test's own query: an event trigger logs the DDL; the chunk rows, the plan
 * and the reconcile run are placed against the audited kills; the audit's order puts each
 * takeover between the two phase moves that bound its boundary; target = transform(source) before
 * the contract.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class CoordinatorTakeoverIT {
    private static final int ROWS = 3000;
    private static final String NAME = "takeover";
    /** The check written here, not taken from the code under test. */
    private static final String WRONG = "SELECT count(*) FROM users WHERE email_verified IS DISTINCT FROM "
            + "(legacy_verified_at IS NOT NULL)";

    @TempDir
    Path dir;
    private final Map<String, Process> children = new java.util.LinkedHashMap<>();
    private final AtomicBoolean loadOn = new AtomicBoolean();
    private final AtomicLong appWrites = new AtomicLong();
    private final AtomicLong appFailures = new AtomicLong();
    private Thread load;
    private Db db;

    @AfterEach
    void stop() throws Exception {
        loadOn.set(false);
        if (load != null) {
            load.join(10_000);
        }
        for (Process p : children.values()) {
            p.destroy();
        }
        for (Process p : children.values()) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (db != null) {
            // The slot is cluster-wide: leave none retaining WAL for the tests after this one.
            db.sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + db.slot
                    + "' AND NOT active");
        }
        try (var logs = Files.list(dir)) {
            for (Path f : logs.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
                List<String> lines = Files.readAllLines(f);
                System.out.println("TAKEOVER ---- " + f.getFileName() + " (last 30 of " + lines.size() + " lines)");
                lines.subList(Math.max(0, lines.size() - 30), lines.size()).forEach(System.out::println);
            }
        }
    }

    @Test
    void aStandbyTakesOverAtEachStepBoundaryAndNoStepIsRepeated(PostgresServer pg, KafkaBroker kafka) throws Exception {
        db = setUp(pg);
        Path spec = spec();
        String bootstrap = kafka.bootstrapServers();
        // Five coordinators armed alike: each point halts one of them once; four kills leave one standing.
        List<String> coordinators = List.of("coordinator-a", "coordinator-b", "coordinator-c", "coordinator-d", "coordinator-e");
        for (String c : coordinators) {
            coordinator(c, db, bootstrap, String.join(",", POINTS));
        }
        child("bridge", db.args("cdc-bridge", "--bootstrap", bootstrap, "--partitions", "3", "--replication", "1",
                "--heartbeat-ms", "1000", "--slot", db.slot));
        child("worker", db.args("worker", "--bootstrap", bootstrap, "--worker-id", "w1", "--session-timeout-ms", "6000"));
        for (String c : coordinators) {
            awaitLog(c, "coordinator listening on");
        }
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200)).until(() -> coordinators.stream()
                .filter(c -> logText(c).contains("driver leadership acquired")).count() == 1);
        startLoad(db);
        MainTest.Run start = MainTest.run(db.args("start", spec.toString()));
        assertThat(start.exit()).as(start.out() + start.err()).isZero();

        // Three kills on the way to verified; the fourth once the read switch is approved.
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> message(db), m -> m != null && m.contains("shapeshift phase advance " + NAME
                        + " --to reads-switched"));
        assertThat(halted(coordinators)).as("halted at expand-ddl, plan-stored and reconcile-range:2").hasSize(3);
        loadOn.set(false);
        load.join(10_000);
        assertThat(appWrites.get()).as("the application wrote during the migration").isPositive();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> db.count(WRONG) == 0);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> MainTest.run(db.args(
                "phase", "advance", NAME, "--to", "reads-switched", "--reason", "test: evidence reviewed")).exit() == 0);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> phase(db), p -> p.equals("contract-ready"));
        assertThat(db.count(WRONG)).as("target = transform(source) before the contract").isZero();
        Map<Long, Boolean> before = newShape(db);
        assertThat(before).hasSizeGreaterThan(ROWS / 2);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> MainTest.run(db.args(
                "contract", NAME, "--reason", "test: nothing reads the old shape")).exit() == 0);
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> db.count(
                "SELECT count(*) FROM shapeshift.audit WHERE migration = '" + NAME + "' AND action = 'driver cleanup'") == 1);
        List<String> dead = halted(coordinators);
        assertThat(dead).as("four coordinators halted, one drives").hasSize(4);
        for (String c : dead) {
            assertThat(children.get(c).exitValue()).as("%s halted by the fault-injection hook", c).isEqualTo(HaltPoint.EXIT);
        }

        // It completed, and nothing was done twice.
        assertThat(phase(db)).isEqualTo("contracted");
        assertThat(newShape(db)).as("the new shape after the contract").isEqualTo(before);
        assertThat(appFailures.get()).as("application statements that failed").isZero();
        assertThat(db.count("SELECT count(*) FROM ddl_log WHERE tag = 'ALTER TABLE' AND query ILIKE '%add%email_verified%'"))
                .as("the expand DDL ran once").isEqualTo(1);
        assertThat(db.count("SELECT count(*) FROM ddl_log WHERE tag = 'ALTER TABLE' AND query ILIKE '%add%email_verified%' "
                + "AND at < (SELECT at FROM shapeshift.audit WHERE action = '" + fault("expand-ddl") + "')"))
                .as("... and committed before the first kill").isEqualTo(1);
        assertThat(db.count("SELECT count(*) FROM shapeshift.backfill_plan WHERE migration = '" + NAME + "'")).isEqualTo(1);
        assertThat(db.count("SELECT count(*) FROM shapeshift.audit WHERE migration = '" + NAME
                + "' AND action LIKE 'backfill planned%'")).as("planned once").isEqualTo(1);
        assertThat(db.count("SELECT count(*) FROM shapeshift.audit WHERE migration = '" + NAME
                + "' AND action LIKE 'backfill planned%' AND id < " + faultId(db, "plan-stored")))
                .as("... before the mid-planning kill").isEqualTo(1);
        assertThat(db.text("SELECT count(*) || '=' || count(DISTINCT chunk_no) || '=' || (max(chunk_no) + 1) "
                + "FROM shapeshift.chunk WHERE migration = '" + NAME + "'")).as("one chunk row per number 0..n-1")
                .matches("(\\d+)=\\1=\\1");
        assertThat(db.count("SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + NAME + "' AND status <> 'done'"))
                .isZero();
        long runAtKill = db.count("SELECT max(id) FROM shapeshift.reconcile_run WHERE migration = '" + NAME + "' AND "
                + "started_at <= (SELECT at FROM shapeshift.audit WHERE action = '" + fault("reconcile-range:2") + "')");
        assertThat(db.text("SELECT status || ':' || (ranges_done > 2) FROM shapeshift.reconcile_run WHERE id = " + runAtKill))
                .as("the run interrupted after two ranges was continued to its end, not started again").isEqualTo("done:true");
        for (String to : List.of("expanded", "syncing", "backfilling", "backfilled", "verified", "reads-switched",
                "contract-ready", "contracted")) {
            assertThat(db.count("SELECT count(*) FROM shapeshift.audit WHERE migration = '" + NAME
                    + "' AND action = 'transition' AND to_phase = '" + to + "'")).as("moves to %s", to).isEqualTo(1);
        }
        assertThat(db.count("SELECT count(*) FROM shapeshift.contract_archive WHERE migration = '" + NAME + "'"))
                .as("one archive").isEqualTo(1);
        assertThat(db.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'shapeshift_archive'")).isEqualTo(1);

        // The audit: each kill, then the takeover by another instance, between the moves that bound the boundary;
        // the instance that took over is the one the next kill halts.
        List<String> takeovers = db.column("SELECT actor FROM shapeshift.audit WHERE migration = '" + NAME
                + "' AND action = '" + DriveLoop.TAKEOVER_ACTION + "' ORDER BY id");
        assertThat(takeovers).as("four takeovers").hasSize(4).doesNotHaveDuplicates()
                .allMatch(actor -> actor.startsWith("coordinator@"));
        String[][] between = {{null, "expanded"}, {"syncing", "backfilling"}, {"backfilled", "verified"},
                {"reads-switched", "contract-ready"}};
        for (int i = 0; i < 4; i++) {
            long kill = faultId(db, POINTS.get(i));
            long takeover = db.count("SELECT id FROM shapeshift.audit WHERE migration = '" + NAME + "' AND action = '"
                    + DriveLoop.TAKEOVER_ACTION + "' AND actor = '" + takeovers.get(i) + "'");
            String killed = db.text("SELECT actor FROM shapeshift.audit WHERE id = " + kill);
            assertThat(killed).as("kill %d: the instance that took over last", i + 1)
                    .isEqualTo(i == 0 ? killed : takeovers.get(i - 1)).isNotEqualTo(takeovers.get(i));
            if (between[i][0] != null) {
                assertThat(kill).as("kill %d after the move to %s", i + 1, between[i][0]).isGreaterThan(moveId(db, between[i][0]));
            }
            assertThat(takeover).as("takeover %d after kill %d", i + 1, i + 1).isGreaterThan(kill);
            assertThat(takeover).as("takeover %d before the move to %s", i + 1, between[i][1])
                    .isLessThan(moveId(db, between[i][1]));
        }
        System.out.printf("TAKEOVER four kills, four takeovers: %s; application writes %d%n", takeovers, appWrites.get());
    }

    /** The boundaries, in the order the migration reaches them. */
    private static final List<String> POINTS = List.of("expand-ddl", "plan-stored", "reconcile-range:2", "phase-reads-switched");

    private static String fault(String point) {
        return HaltPoint.AUDIT_ACTION + point;
    }

    private static long faultId(Db db, String point) throws SQLException {
        return db.count("SELECT id FROM shapeshift.audit WHERE migration = '" + NAME + "' AND action = '" + fault(point) + "'");
    }

    private List<String> halted(List<String> names) {
        return names.stream().filter(n -> !children.get(n).isAlive()).toList();
    }

    private String logText(String name) {
        try {
            return Files.readString(log(name));
        } catch (IOException e) {
            return "";
        }
    }

    private static long moveId(Db db, String to) throws SQLException {
        return db.count("SELECT id FROM shapeshift.audit WHERE migration = '" + NAME + "' AND action = 'transition' "
                + "AND to_phase = '" + to + "'");
    }

    private Db setUp(PostgresServer pg) throws Exception {
        String database = pg.createDatabase("takeover");
        Db db = new Db(pg.jdbcUrl(database), pg.user(), Files.writeString(dir.resolve("pw"), pg.password()), pg.password());
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        db.app = "app_" + suffix;
        db.slot = "takeover_" + suffix;
        db.token = Files.writeString(dir.resolve("token"), "takeover-admin-token-" + suffix);
        db.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, legacy_verified_at timestamptz)",
                "INSERT INTO users SELECT g, 'u' || g || '@example.com', CASE WHEN g % 3 = 0 THEN now() END "
                        + "FROM generate_series(1, " + ROWS + ") g",
                "CREATE ROLE " + db.app + " LOGIN PASSWORD 'app'",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON users TO " + db.app,
                // The test's own record of every DDL statement, whoever runs it.
                "CREATE TABLE ddl_log (at timestamptz NOT NULL DEFAULT clock_timestamp(), tag text, query text)",
                "CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "INSERT INTO public.ddl_log (tag, query) VALUES (tg_tag, current_query()); END $$",
                "CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION log_ddl()");
        return db;
    }

    /** In place; chunks and reconcile ranges of 400 keys so a run has several; short evidence periods. */
    private Path spec() throws IOException {
        return Files.writeString(dir.resolve(NAME + ".yaml"), """
                name: %s
                source:
                  table: users
                mode: in-place
                target:
                  columns:
                    - name: email_verified
                      type: boolean
                      transform: legacy_verified_at IS NOT NULL
                backfill:
                  chunkRows: 400
                  batchRows: 100
                reconcile:
                  interval: 2s
                  recheckAfter: 1s
                  rangeRows: 400
                switch:
                  cleanFor: 1s
                contract:
                  dropColumns: [legacy_verified_at]
                  quietPeriod: 3s
                """.formatted(NAME));
    }

    /** The application: updates of the old column, inserts and deletes under its own role, ~50 per second. */
    private void startLoad(Db db) {
        loadOn.set(true);
        load = new Thread(() -> {
            Random random = new Random(13);
            long next = 1_000_000;
            Properties p = new Properties();
            p.setProperty("user", db.app);
            p.setProperty("password", "app");
            while (loadOn.get()) {
                try (Connection c = DriverManager.getConnection(db.url, p); Statement s = c.createStatement()) {
                    while (loadOn.get()) {
                        int op = random.nextInt(10);
                        long id = 1 + random.nextInt(ROWS);
                        if (op < 5) {
                            s.executeUpdate("UPDATE users SET legacy_verified_at = CASE WHEN legacy_verified_at IS NULL "
                                    + "THEN now() END WHERE id = " + id);
                        } else if (op < 8) {
                            s.executeUpdate("INSERT INTO users VALUES (" + next++ + ", 'n@example.com', "
                                    + (random.nextBoolean() ? "now()" : "NULL") + ")");
                        } else {
                            s.executeUpdate("DELETE FROM users WHERE id = " + id);
                        }
                        appWrites.incrementAndGet();
                        Thread.sleep(20);
                    }
                } catch (SQLException e) {
                    appFailures.incrementAndGet();
                    System.out.println("TAKEOVER application statement failed: " + e.getMessage());
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "takeover-app");
        load.start();
    }

    /** A coordinator that drives through Kafka, halting at {@code haltAt} when that is not null. */
    private Process coordinator(String name, Db db, String bootstrap, String haltAt) throws IOException {
        List<String> jvm = haltAt == null ? List.of() : List.of("-D" + HaltPoint.PROPERTY + "=" + haltAt);
        return start(name, jvm, db.args("coordinator", "--bootstrap", bootstrap, "--partitions", "3", "--port", "0",
                "--admin-token-file", db.token.toString()));
    }

    private Process child(String name, String... args) throws IOException {
        return start(name, List.of(), args);
    }

    private Process start(String name, List<String> jvmOptions, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log(name).toFile()).start();
        children.put(name, p);
        System.out.printf("TAKEOVER child %s pid=%d log=%s%n", name, p.pid(), log(name));
        return p;
    }

    /** Waits for {@code text} in a child's output; fails at once if the child died without writing it. */
    private void awaitLog(String name, String text) {
        Process p = children.get(name);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                .failFast("child " + name + " exited", () -> !p.isAlive() && !Files.readString(log(name)).contains(text))
                .until(() -> Files.readString(log(name)).contains(text));
    }

    private Path log(String name) {
        return dir.resolve(name + ".log");
    }

    private static String phase(Db db) throws SQLException {
        return db.text("SELECT phase FROM shapeshift.migration WHERE name = '" + NAME + "'");
    }

    private static String message(Db db) throws SQLException {
        return db.text("SELECT message FROM shapeshift.migration WHERE name = '" + NAME + "'");
    }

    private static Map<Long, Boolean> newShape(Db db) throws SQLException {
        Map<Long, Boolean> out = new HashMap<>();
        try (Connection c = db.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, email_verified FROM users")) {
            while (rs.next()) {
                out.put(rs.getLong(1), (Boolean) rs.getObject(2));
            }
        }
        return out;
    }

    /** The source database as the superuser Shapeshift runs as, and the CLI options that reach it. */
    private static final class Db {
        final String url;
        final String user;
        final Path passwordFile;
        final String password;
        String app;
        String slot;
        Path token;

        Db(String url, String user, Path passwordFile, String password) {
            this.url = url;
            this.user = user;
            this.passwordFile = passwordFile;
            this.password = password;
        }

        String[] args(String... command) {
            List<String> a = new ArrayList<>(List.of(command));
            a.addAll(List.of("--jdbc-url", url, "--user", user, "--password-file", passwordFile.toString()));
            return a.toArray(String[]::new);
        }

        Connection connect() throws SQLException {
            return DriverManager.getConnection(url, user, password);
        }

        void sql(String... statements) throws SQLException {
            try (Connection c = connect(); Statement s = c.createStatement()) {
                for (String st : statements) {
                    s.execute(st);
                }
            }
        }

        long count(String query) throws SQLException {
            try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(query); ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }

        String text(String query) throws SQLException {
            try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(query); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }

        List<String> column(String query) throws SQLException {
            List<String> out = new ArrayList<>();
            try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(query); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }
}
