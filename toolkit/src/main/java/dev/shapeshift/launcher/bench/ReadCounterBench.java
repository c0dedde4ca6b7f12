package dev.shapeshift.launcher.bench;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.contract.ReadCounter;
import dev.shapeshift.db.Database;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code shapeshift bench read-counter}: what the read counter ({@link ReadCounter}: row-level
 * security policies that count each statement by identity) costs an application's reads of the old
 * table, against the same reads of the same table without it, in one run: {@code clients}
 * sessions of a non-superuser role (superusers bypass row-level security) each running a read in
 * autocommit back to back for {@code seconds}, a point read by random key and a range read of 100
 * rows; the counter installed (as the write switch installs it) and removed between cases, the
 * plain and counted cases alternating in every round. A third case makes the counter table logged,
 * the design it replaced, to show what the unlogged table saves.
 */
public final class ReadCounterBench {
    static final String TABLE = "rc_bench";
    private static final String ROLE = "rc_bench_reader";
    private static final String MIGRATION = "rc-bench";

    public record Options(long rows, List<Integer> clients, int seconds, int rounds, Path out, String command) {
    }

    record Case(int round, int clients, String read, String counter, long statements, double perSecond, double p50Ms,
                double p99Ms, double meanMicros) {
    }

    private ReadCounterBench() {
    }

    public static Path run(Options o, PrintStream out) throws Exception {
        try (BenchStack stack = BenchStack.postgres("shapeshift_bench_rc",
                    "CREATE TABLE " + TABLE + " (id bigint PRIMARY KEY, v integer NOT NULL)",
                    "INSERT INTO " + TABLE + " SELECT g, g % 1000 FROM generate_series(1, " + o.rows() + ") g",
                    "CREATE TABLE " + TABLE + "_v2 (id bigint PRIMARY KEY, v integer)",
                    "CREATE ROLE " + ROLE + " LOGIN PASSWORD 'bench'",
                    "GRANT SELECT ON " + TABLE + " TO " + ROLE,
                    "VACUUM ANALYZE " + TABLE,
                    "CHECKPOINT")) {
            Database db = stack.db();
            new Catalog(db, "bench").create(MIGRATION, "{\"name\":\"" + MIGRATION + "\",\"source\":{\"table\":\"" + TABLE
                    + "\"},\"mode\":\"table\",\"target\":{\"table\":\"" + TABLE + "_v2\",\"columns\":[{\"name\":\"v\","
                    + "\"type\":\"integer\",\"transform\":\"v\"}]},\"contract\":{\"dropTable\":true}}", "{}", "bench");
            out.printf(Locale.ROOT, "loaded %,d rows%n", o.rows());
            List<Case> cases = new ArrayList<>();
            for (int round = 1; round <= o.rounds(); round++) {
                for (int clients : o.clients()) {
                    for (String read : List.of("point", "range100")) {
                        List<String> counters = new ArrayList<>(List.of("plain", "counted", "counted, logged table"));
                        if (round % 2 == 0) {
                            java.util.Collections.reverse(counters);
                        }
                        for (String counter : counters) {
                            boolean counted = !counter.equals("plain");
                            if (counted) {
                                exec(db, "ALTER TABLE shapeshift.read_counter SET " + (counter.contains("logged table")
                                        ? "LOGGED" : "UNLOGGED"));
                                install(db);
                            }
                            cases.add(measure(db, o, round, clients, read, counter, out));
                            if (counted) {
                                ReadCounter.remove(db, MIGRATION, "benchmark case done");
                            }
                        }
                    }
                }
            }
            long countedReads;
            try (Connection c = db.connect("bench"); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT sum(reads) FROM shapeshift.read_counter")) {
                rs.next();
                countedReads = rs.getLong(1);
            }
            long ran = cases.stream().filter(x -> !x.counter().equals("plain")).mapToLong(Case::statements).sum();
            out.printf(Locale.ROOT, "counted %d reads of %d statements run with the counter%n", countedReads, ran);
            Path md = write(o, stack.machine(), stack.started(), cases, countedReads, ran);
            out.println("wrote " + md);
            return md;
        }
    }

    private static void exec(Database db, String sql) throws SQLException {
        try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static void install(Database db) throws SQLException {
        try (Connection c = db.connect("bench")) {
            c.setAutoCommit(false);
            ReadCounter.install(c, MIGRATION, "public", TABLE);
            c.commit();
        }
    }

    private static Case measure(Database db, Options o, int round, int clients, String read, String counter,
                                PrintStream out) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Latencies latencies = new Latencies();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < clients; i++) {
            threads.add(new Thread(() -> {
                try {
                    load(db, o.rows(), read, stop, latencies);
                } catch (SQLException e) {
                    failures.add(e);
                }
            }, "bench-reader-" + i));
        }
        threads.forEach(Thread::start);
        long t0 = System.nanoTime();
        try {
            Thread.sleep(o.seconds() * 1000L);
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!failures.isEmpty()) {
            throw new IllegalStateException("reader failed: " + failures.get(0).getMessage(), failures.get(0));
        }
        Case c = new Case(round, clients, read, counter, latencies.count(), latencies.count() / seconds,
                latencies.percentile(50), latencies.percentile(99), seconds * clients * 1e6 / latencies.count());
        out.printf(Locale.ROOT, "round %d, %d client(s), %s read, %s: %,.0f reads/s, p50 %.3f ms, p99 %.3f ms%n", round,
                clients, read, counter, c.perSecond(), c.p50Ms(), c.p99Ms());
        return c;
    }

    private static void load(Database db, long rows, String read, AtomicBoolean stop, Latencies latencies)
            throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", ROLE);
        p.setProperty("password", "bench");
        p.setProperty("ApplicationName", "bench-reader");
        String sql = read.equals("point") ? "SELECT v FROM " + TABLE + " WHERE id = ?"
                : "SELECT sum(v) FROM " + TABLE + " WHERE id BETWEEN ? AND ? + 99";
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), p); PreparedStatement ps = c.prepareStatement(sql)) {
            while (!stop.get()) {
                long key = 1 + ThreadLocalRandom.current().nextLong(rows - 100);
                ps.setLong(1, key);
                if (!read.equals("point")) {
                    ps.setLong(2, key);
                }
                long t0 = System.nanoTime();
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                }
                latencies.add(System.nanoTime() - t0);
            }
        }
    }

    private static Path write(Options o, Map<String, String> machine, OffsetDateTime started, List<Case> cases,
                              long countedReads, long ran) throws IOException {
        String base = LocalDate.now() + "-read-counter-" + o.rows();
        StringBuilder b = new StringBuilder();
        b.append("# Read counter benchmark: reads of the old table with and without the counter\n\n");
        ResultFiles.header(b, started, o.command(), machine);
        b.append(String.format(Locale.ROOT, "- table: %,d rows `(id bigint PRIMARY KEY, v integer)`; reads by a "
                + "non-superuser role, autocommit, back to back, %d s per case; `point` = `SELECT v … WHERE id = ?`, "
                + "`range100` = `SELECT sum(v) … WHERE id BETWEEN ? AND ? + 99`%n", o.rows(), o.seconds()));
        b.append(String.format(Locale.ROOT, "- the counter counted %,d reads of the %,d statements run while it was "
                + "installed%n", countedReads, ran));
        b.append("\nCounted = `ReadCounter.install` as the write switch runs it (row-level security policies calling "
                + "`shapeshift.count_access` once per statement), counter table unlogged as shipped; \"counted, logged "
                + "table\" = the same with `shapeshift.read_counter` made LOGGED for the case (the alternative design: "
                + "every counted read then waits for a WAL flush at commit). Ratio = counted ÷ plain reads/s of the same round and "
                + "clients; extra µs/read = mean time per read (clients × seconds ÷ reads) counted minus plain.\n\n");
        b.append("| round | clients | read | counter | reads | reads/s | p50 ms | p99 ms | mean µs | ratio | extra µs/read |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Case c : cases) {
            Case plain = !c.counter().equals("plain") ? cases.stream().filter(x -> x.counter().equals("plain") && x.round() == c.round()
                    && x.clients() == c.clients() && x.read().equals(c.read())).findFirst().orElse(null) : null;
            b.append(String.format(Locale.ROOT, "| %d | %d | %s | %s | %d | %.0f | %.3f | %.3f | %.0f | %s | %s |%n",
                    c.round(), c.clients(), c.read(), c.counter(), c.statements(), c.perSecond(),
                    c.p50Ms(), c.p99Ms(), c.meanMicros(),
                    plain == null ? "" : String.format(Locale.ROOT, "%.2f", c.perSecond() / plain.perSecond()),
                    plain == null ? "" : String.format(Locale.ROOT, "%.0f", c.meanMicros() - plain.meanMicros())));
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("rows", o.rows());
        fields.put("countedReads", countedReads);
        fields.put("statementsWhileCounting", ran);
        fields.put("cases", cases);
        return ResultFiles.write(o.out(), base, b.toString(), started, o.command(), machine, fields);
    }
}
