package dev.shapeshift.launcher;

import static org.awaitility.Awaitility.await;

import dev.shapeshift.embedded.ChildJvm;
import dev.shapeshift.embedded.DocumentedGrants;
import dev.shapeshift.embedded.SeededWrites;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * What the tests that run Shapeshift as separate processes share: the source database and the CLI
 * options that reach it ({@link Db}), the application's write load on {@code users}
 * ({@link UsersLoad}), and the child JVMs started with the commands a user runs ({@link Children}).
 */
final class RoleProcesses {
    private RoleProcesses() {
    }

    /** {@code users(id, email, legacy_verified_at)} with {@code rows} rows, and an application role with DML on it. */
    static Db users(String url, String user, String password, Path dir, int rows) throws SQLException, IOException {
        Db db = new Db(url, user, Files.writeString(dir.resolve("pw-" + UUID.randomUUID()), password), password);
        db.app = "app_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        db.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, legacy_verified_at timestamptz)",
                "INSERT INTO users SELECT g, 'u' || g || '@example.com', CASE WHEN g % 3 = 0 THEN now() END "
                        + "FROM generate_series(1, " + rows + ") g",
                "CREATE ROLE " + db.app + " LOGIN PASSWORD 'app'",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON users TO " + db.app);
        return db;
    }

    /**
     * How many rows' {@code email_verified} is not transform({@code legacy_verified_at}): the check
     * written here, not taken from the code under test.
     */
    static final String WRONG = "SELECT count(*) FROM users WHERE email_verified IS DISTINCT FROM "
            + "(legacy_verified_at IS NOT NULL)";

    /** Every row's {@code email_verified}, read by the test's own query. */
    static Map<Long, Boolean> newShape(Db db) throws SQLException {
        Map<Long, Boolean> out = new HashMap<>();
        try (Connection c = db.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, email_verified FROM users")) {
            while (rs.next()) {
                out.put(rs.getLong(1), (Boolean) rs.getObject(2));
            }
        }
        return out;
    }

    static String phase(Db db, String migration) throws SQLException {
        return db.text("SELECT phase FROM shapeshift.migration WHERE name = '" + migration + "'");
    }

    static String message(Db db, String migration) throws SQLException {
        return db.text("SELECT message FROM shapeshift.migration WHERE name = '" + migration + "'");
    }

    /** The source database as the superuser the checks run as, and the CLI options Shapeshift's processes get. */
    static final class Db {
        final String url;
        final String user;
        final Path passwordFile;
        final String password;
        String app;
        String slot;
        Path token;
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
            if (count("SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "' AND NOT rolsuper") != 1) {
                throw new IllegalStateException("the documented role " + role + " is a superuser or missing");
            }
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

    /** The application: updates of the old column, inserts and deletes under its own role, ~50 per second. */
    static final class UsersLoad {
        private SeededWrites load;

        UsersLoad start(Db db, int rows, long seed, String tag) {
            Properties p = new Properties();
            p.setProperty("user", db.app);
            p.setProperty("password", "app");
            long[] next = {1_000_000};
            load = SeededWrites.of(tag.toLowerCase(java.util.Locale.ROOT) + "-app", seed, () -> DriverManager.getConnection(db.url, p),
                    (random, c) -> {
                        try (Statement s = c.createStatement()) {
                            int op = random.nextInt(10);
                            long id = 1 + random.nextInt(rows);
                            if (op < 5) {
                                s.executeUpdate("UPDATE users SET legacy_verified_at = CASE WHEN legacy_verified_at IS NULL "
                                        + "THEN now() END WHERE id = " + id);
                            } else if (op < 8) {
                                s.executeUpdate("INSERT INTO users VALUES (" + next[0]++ + ", 'n@example.com', "
                                        + (random.nextBoolean() ? "now()" : "NULL") + ")");
                            } else {
                                s.executeUpdate("DELETE FROM users WHERE id = " + id);
                            }
                        }
                    }).pause(Duration.ofMillis(20)).onFailure(SeededWrites.OnFailure.RECONNECT).label(tag).userThread().start();
            return this;
        }

        void stop() throws InterruptedException {
            if (load != null) {
                load.close();
            }
        }

        long writes() {
            return load.writes();
        }

        long failures() {
            return load.failures();
        }
    }

    /** Child JVMs running {@link Main}, each with its output in {@code dir/NAME.log}. */
    static final class Children {
        private final Path dir;
        private final String tag;
        private final Map<String, Process> processes = new LinkedHashMap<>();

        Children(Path dir, String tag) {
            this.dir = dir;
            this.tag = tag;
        }

        Process start(String name, String... args) throws IOException {
            return start(name, List.of(), args);
        }

        Process start(String name, List<String> jvmOptions, String... args) throws IOException {
            Process p = ChildJvm.main(Main.class).options("-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
                    .options(jvmOptions).args(args).startLoggingTo(log(name));
            processes.put(name, p);
            System.out.printf("%s child %s pid=%d log=%s%n", tag, name, p.pid(), log(name));
            return p;
        }

        Process get(String name) {
            return processes.get(name);
        }

        Path log(String name) {
            return dir.resolve(name + ".log");
        }

        String logText(String name) {
            try {
                return Files.readString(log(name));
            } catch (IOException e) {
                return "";
            }
        }

        /** Waits for {@code text} in a child's output; fails at once if the child died without writing it. */
        void awaitLog(String name, String text) {
            Process p = processes.get(name);
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                    .failFast("child " + name + " exited", () -> !p.isAlive() && !logText(name).contains(text))
                    .until(() -> logText(name).contains(text));
        }

        /** Stops every child (SIGTERM, then SIGKILL after 30 s) and prints the tail of each log into the report. */
        void stopAll(int tailLines) throws IOException, InterruptedException {
            for (Process p : processes.values()) {
                p.destroy();
            }
            for (Process p : processes.values()) {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            try (var logs = Files.list(dir)) {
                for (Path f : logs.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
                    List<String> lines = Files.readAllLines(f);
                    System.out.println(tag + " ---- " + f.getFileName() + " (last " + tailLines + " of " + lines.size() + " lines)");
                    lines.subList(Math.max(0, lines.size() - tailLines), lines.size()).forEach(System.out::println);
                }
            }
        }
    }
}
