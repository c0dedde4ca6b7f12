package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.embedded.DocumentedGrants;
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
 * A user's whole migration through the commands a user runs, against a real PostgreSQL and a real
 * Kafka, every Shapeshift process a child JVM: the roles started the way a deployment starts them
 * (coordinator, cdc-bridge, two workers; {@code shapeshift start}), and the one-process
 * {@code shapeshift run} killed with SIGKILL mid-backfill and started again. In both the driver
 * takes the migration to {@code verified} under an application's write load; the read switch and
 * the contract are approved from the CLI ({@code phase advance}, {@code contract}); an independent
 * query checks target = transform(source) before the contract, and the values after it.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class EndToEndIT {
    private static final int ROWS = 4000;
    /** The check written here, not taken from the code under test. */
    private static final String WRONG = "SELECT count(*) FROM users WHERE email_verified IS DISTINCT FROM "
            + "(legacy_verified_at IS NOT NULL)";

    @TempDir
    Path dir;
    private final List<Process> children = new ArrayList<>();
    private final AtomicBoolean loadOn = new AtomicBoolean();
    private final AtomicLong appWrites = new AtomicLong();
    private final AtomicLong appFailures = new AtomicLong();
    private Thread load;

    @AfterEach
    void stop() throws Exception {
        loadOn.set(false);
        if (load != null) {
            load.join(10_000);
        }
        for (Process p : children) {
            p.destroy();
        }
        for (Process p : children) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        // The temp dir goes with the test: keep what each child said in the report.
        try (var logs = Files.list(dir)) {
            for (Path f : logs.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
                List<String> lines = Files.readAllLines(f);
                System.out.println("E2E ---- " + f.getFileName() + " (last 40 of " + lines.size() + " lines)");
                lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(System.out::println);
            }
        }
    }

    @Test
    void separateRoleProcessesAndTheCli(PostgresServer pg, KafkaBroker kafka) throws Exception {
        Db db = setUp(pg, "e2e_roles");
        db.runAsDocumentedRole();
        Path spec = spec("e2e-roles");
        Path token = Files.writeString(dir.resolve("token"), "e2e-admin-token-" + UUID.randomUUID());
        child("coordinator", db.args("coordinator", "--bootstrap", kafka.bootstrapServers(), "--partitions", "3",
                "--port", "0", "--admin-token-file", token.toString()));
        child("bridge", db.args("cdc-bridge", "--bootstrap", kafka.bootstrapServers(), "--partitions", "3", "--replication", "1",
                "--heartbeat-ms", "1000"));
        for (String w : List.of("w1", "w2")) {
            child("worker-" + w, db.args("worker", "--bootstrap", kafka.bootstrapServers(), "--worker-id", w,
                    "--session-timeout-ms", "6000"));
        }
        startLoad(db);
        MainTest.Run start = MainTest.run(db.args("start", spec.toString()));
        assertThat(start.exit()).as(start.out() + start.err()).isZero();
        assertThat(start.out()).contains("registered in phase planned");

        finish(db, "e2e-roles", null);
    }

    @Test
    void runInOneProcessResumesAfterSigkillMidBackfill(PostgresServer pg) throws Exception {
        Db db = setUp(pg, "e2e_run");
        Path spec = spec("e2e-run");
        Path data = dir.resolve("data");
        String[] run = db.args("run", spec.toString(), "--data-dir", data.toString(), "--workers", "2", "--partitions", "3",
                "--status-every", "1s", "--heartbeat", "1s");
        startLoad(db);
        Process first = child("run-1", run);
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            long[] c = chunks(db, "e2e-run");
            return c[1] > 0 && c[0] >= 1 && c[0] < c[1];
        });
        long[] atKill = chunks(db, "e2e-run");
        first.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no shutdown hook runs
        System.out.printf("E2E killed run mid-backfill: %d of %d chunks done%n", atKill[0], atKill[1]);

        Process second = child("run-2", run);
        finish(db, "e2e-run", second);
        assertThat(Files.readString(log("run-2"))).contains("already registered with this spec")
                .contains("dashboard and API: http://");
        assertThat(Files.readString(log("run-2"))).contains("contracted and cleaned up");
        assertThat(chunks(db, "e2e-run")[1]).as("the backfill was planned once").isEqualTo(atKill[1]);
        assertThat(db.count("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"))
                .as("run leaves no replication slot retaining WAL").isZero();
    }

    /**
     * From registration to the end: the driver reaches verified under load; the load stops; the
     * independent check; the read switch and the contract approved from the CLI; the check after
     * the contract. With {@code run}, that process must exit 0 by itself once contracted.
     */
    private void finish(Db db, String name, Process run) throws Exception {
        // As a script would: block on the CLI until the driver reached verified.
        MainTest.Run verified = MainTest.run(db.args("wait", name, "--for", "verified", "--timeout", "4m", "--interval", "500ms"));
        assertThat(verified.exit()).as(verified.out() + verified.err()).isZero();
        assertThat(verified.out()).contains(name + " is verified");
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                .until(() -> message(db, name), m -> m != null && m.contains("shapeshift phase advance " + name
                        + " --to reads-switched"));
        loadOn.set(false);
        load.join(10_000);
        assertThat(appWrites.get()).as("the application wrote during the migration").isPositive();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> db.count(WRONG) == 0);
        Map<Long, Boolean> before = newShape(db);
        assertThat(before).hasSizeGreaterThan(ROWS / 2);

        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> MainTest.run(db.args(
                "phase", "advance", name, "--to", "reads-switched", "--reason", "e2e: evidence reviewed")).exit() == 0);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .until(() -> MainTest.run(db.args("contract", name, "--reason", "e2e: nothing reads the old shape")).exit() == 0);
        assertThat(phase(db, name)).isEqualTo("contracted");
        assertThat(db.count("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                + "AND column_name = 'legacy_verified_at'")).as("old column dropped").isZero();
        assertThat(newShape(db)).as("the new shape after the contract").isEqualTo(before);
        assertThat(appFailures.get()).as("application statements that failed").isZero();
        assertThat(db.count("SELECT count(*) FROM shapeshift.audit WHERE migration = '" + name
                + "' AND to_phase = 'backfilling'")).as("one move to backfilling").isEqualTo(1);
        if (run != null) {
            assertThat(run.waitFor(2, TimeUnit.MINUTES)).as("run exits once contracted and cleaned up").isTrue();
            assertThat(run.exitValue()).isZero();
        }
    }

    private Db setUp(PostgresServer pg, String prefix) throws Exception {
        String database = pg.createDatabase(prefix);
        Db db = new Db(pg.jdbcUrl(database), pg.user(), Files.writeString(dir.resolve("pw"), pg.password()), pg.password());
        String app = "app_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        db.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, legacy_verified_at timestamptz)",
                "INSERT INTO users SELECT g, 'u' || g || '@example.com', CASE WHEN g % 3 = 0 THEN now() END "
                        + "FROM generate_series(1, " + ROWS + ") g",
                "CREATE ROLE " + app + " LOGIN PASSWORD 'app'",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON users TO " + app);
        db.app = app;
        return db;
    }

    /** In place; a backfill capped at 300 rows/s so a kill lands mid-backfill; short evidence periods. */
    private Path spec(String name) throws IOException {
        return Files.writeString(dir.resolve(name + ".yaml"), """
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
                  chunkRows: 500
                  batchRows: 100
                  maxRowsPerSecond: 300
                reconcile:
                  interval: 2s
                  recheckAfter: 1s
                switch:
                  cleanFor: 1s
                contract:
                  dropColumns: [legacy_verified_at]
                  quietPeriod: 3s
                """.formatted(name));
    }

    /** The application: inserts, updates of the old column and deletes, under its own role, ~50 per second. */
    private void startLoad(Db db) {
        loadOn.set(true);
        load = new Thread(() -> {
            Random random = new Random(42);
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
                    System.out.println("E2E application statement failed: " + e.getMessage());
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "e2e-app");
        load.start();
    }

    private Process child(String name, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log(name).toFile()).start();
        children.add(p);
        System.out.printf("E2E child %s pid=%d log=%s%n", name, p.pid(), log(name));
        return p;
    }

    private Path log(String name) {
        return dir.resolve(name + ".log");
    }

    private static long[] chunks(Db db, String name) throws SQLException {
        return new long[] {db.count("SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + name + "' AND status = 'done'"),
                db.count("SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + name + "'")};
    }

    private static String phase(Db db, String name) throws SQLException {
        return db.text("SELECT phase FROM shapeshift.migration WHERE name = '" + name + "'");
    }

    private static String message(Db db, String name) throws SQLException {
        return db.text("SELECT message FROM shapeshift.migration WHERE name = '" + name + "'");
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
        /** The role every Shapeshift process and CLI call connects as (the superuser unless changed). */
        private String runAs;
        private Path runAsPasswordFile;

        Db(String url, String user, Path passwordFile, String password) {
            this.url = url;
            this.user = user;
            this.passwordFile = passwordFile;
            this.password = password;
            this.runAs = user;
            this.runAsPasswordFile = passwordFile;
        }

        /**
         * From here on Shapeshift connects as a new role made by exactly the statements a user is
         * given, {@code deploy/postgres/init/} (docs/deployment.md): its grants, and the ownership
         * of the source table the sample gives. The test's {@code users} table (already created,
         * same columns as the sample's) stands in for the sample's, so its CREATE and INSERT are left out.
         */
        void runAsDocumentedRole() throws SQLException, IOException {
            String role = "shapeshift_e2e_" + Long.toHexString(System.nanoTime());
            String pw = UUID.randomUUID().toString();
            String database = url.substring(url.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
            for (String st : DocumentedGrants.statements(Path.of("..", "deploy", "postgres", "init"), role, pw, database)) {
                if (!st.startsWith("CREATE TABLE") && !st.startsWith("INSERT")) {
                    sql(st);
                }
            }
            assertThat(count("SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "' AND NOT rolsuper"))
                    .as("Shapeshift runs as a role that is not a superuser").isEqualTo(1);
            runAs = role;
            runAsPasswordFile = Files.writeString(passwordFile.resolveSibling(role + ".pw"), pw);
        }

        String[] args(String... command) {
            List<String> a = new ArrayList<>(List.of(command));
            a.addAll(List.of("--jdbc-url", url, "--user", runAs, "--password-file", runAsPasswordFile.toString()));
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
    }
}
