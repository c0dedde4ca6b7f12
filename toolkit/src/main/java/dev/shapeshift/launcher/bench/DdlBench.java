package dev.shapeshift.launcher.bench;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.stage.Enforcer;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code shapeshift bench ddl}: what an application waits while a {@code NOT NULL} and a unique
 * index are added to a table of N rows, the naive way ({@code ALTER … SET NOT NULL}, plain
 * {@code CREATE UNIQUE INDEX}) against Shapeshift's enforcement ({@link Enforcer}: the finding
 * query, then {@code CHECK … NOT VALID} → {@code VALIDATE} → {@code SET NOT NULL} → drop the check,
 * and {@code CREATE UNIQUE INDEX CONCURRENTLY}, every statement through {@link LockSafeDdl}), in
 * one run, on the same table, under the same load: {@code clients} sessions each updating one
 * random row per autocommit statement. Measured per case: every application statement's time
 * (max, p99) and, sampled every 10 ms from {@code pg_stat_activity} (wait event type {@code Lock},
 * i.e. queued in {@code pg_locks}), the longest an application statement was seen waiting for a lock.
 */
public final class DdlBench {
    static final String TABLE = "ddl_bench";
    private static final String APP = "bench-app";

    public record Options(long rows, int clients, int rounds, Path out, String command) {
    }

    record Case(int round, String name, double ddlSeconds, long statements, double p50Ms, double p99Ms, double maxMs,
                double longestLockWaitMs) {
    }

    private DdlBench() {
    }

    public static Path run(Options o, PrintStream out) throws Exception {
        try (BenchStack stack = BenchStack.postgres("shapeshift_bench_ddl",
                    "CREATE TABLE " + TABLE + " (id bigint PRIMARY KEY, v integer, nn integer, uk text)",
                    "INSERT INTO " + TABLE + " SELECT g, 0, g, 'k' || g FROM generate_series(1, " + o.rows() + ") g",
                    "VACUUM ANALYZE " + TABLE,
                    "CHECKPOINT")) {
            Database db = stack.db();
            out.printf(Locale.ROOT, "loaded %,d rows%n", o.rows());
            LockSafeDdl ddl = LockSafeDdl.of(db, "coordinator");
            Enforcer enforcer = new Enforcer(db, ddl);
            ResolvedSpec notNull = register(db, "bench-not-null", """
                    - name: nn
                      type: integer
                      transform: id
                      notNull: true
                      default: "0"
                    """);
            ResolvedSpec unique = register(db, "bench-unique", """
                    - name: uk
                      type: text
                      transform: "'k' || id"
                      unique: true
                    """);
            List<Case> cases = new ArrayList<>();
            for (int round = 1; round <= o.rounds(); round++) {
                cases.add(measure(db, o, round, "no DDL (the load alone, 2 s)", () -> Thread.sleep(2000)));
                cases.add(measure(db, o, round, "NOT NULL, naive: ALTER … SET NOT NULL",
                        () -> exec(db, "ALTER TABLE " + TABLE + " ALTER COLUMN nn SET NOT NULL")));
                exec(db, "ALTER TABLE " + TABLE + " ALTER COLUMN nn DROP NOT NULL");
                cases.add(measure(db, o, round, "NOT NULL, staged: Enforcer (find NULLs, CHECK NOT VALID, VALIDATE, "
                        + "SET NOT NULL, drop check)", () -> enforce(enforcer, "bench-not-null", notNull)));
                exec(db, "ALTER TABLE " + TABLE + " ALTER COLUMN nn DROP NOT NULL");
                cases.add(measure(db, o, round, "unique index, naive: CREATE UNIQUE INDEX",
                        () -> exec(db, "CREATE UNIQUE INDEX " + TABLE + "_uk_key ON " + TABLE + " (uk)")));
                exec(db, "DROP INDEX " + TABLE + "_uk_key");
                cases.add(measure(db, o, round, "unique index, staged: Enforcer (find duplicates, CREATE UNIQUE INDEX "
                        + "CONCURRENTLY)", () -> enforce(enforcer, "bench-unique", unique)));
                exec(db, "DROP INDEX " + TABLE + "_uk_key");
            }
            Path md = write(o, stack.machine(), stack.started(), cases);
            out.println("wrote " + md);
            return md;
        }
    }

    private interface Ddl {
        void run() throws Exception;
    }

    private static ResolvedSpec register(Database db, String name, String columns) throws SQLException {
        String yaml = "name: " + name + "\nsource:\n  table: " + TABLE + "\ntarget:\n  columns:\n"
                + columns.indent(4);
        MigrationSpec spec = new SpecReader().read(name + ".yaml", yaml);
        new Catalog(db, "bench").create(spec.name(), SpecJson.write(spec), yaml, "bench");
        try (Connection c = db.connect("bench")) {
            return SpecValidator.resolveExpanded(name, spec, c);
        }
    }

    private static void enforce(Enforcer enforcer, String migration, ResolvedSpec spec) {
        Enforcer.Result r = enforcer.run(migration, spec);
        if (!r.done() || r.enforced().isEmpty()) {
            throw new IllegalStateException(migration + ": not enforced: " + r);
        }
    }

    /** One case: the load for 1 s, the DDL (timed), the load for 1 s more; the sampler throughout. */
    private static Case measure(Database db, Options o, int round, String name, Ddl ddl) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Latencies latencies = new Latencies();
        AtomicLong longestLockWaitMicros = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < o.clients(); i++) {
            threads.add(new Thread(() -> load(db, o.rows(), stop, latencies), "bench-app-" + i));
        }
        threads.add(new Thread(() -> sample(db, stop, longestLockWaitMicros), "bench-lock-sampler"));
        threads.forEach(Thread::start);
        double seconds;
        try {
            Thread.sleep(1000);
            long t0 = System.nanoTime();
            ddl.run();
            seconds = (System.nanoTime() - t0) / 1e9;
            Thread.sleep(1000);
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
        }
        Case c = new Case(round, name, seconds, latencies.count(), latencies.percentile(50), latencies.percentile(99),
                latencies.percentile(100), longestLockWaitMicros.get() / 1000.0);
        System.out.printf(Locale.ROOT, "round %d %s: ddl %.2f s, %d statements, max %.1f ms, p99 %.1f ms, longest lock "
                + "wait seen %.1f ms%n", round, name, seconds, c.statements(), c.maxMs(), c.p99Ms(), c.longestLockWaitMs());
        return c;
    }

    private static void load(Database db, long rows, AtomicBoolean stop, Latencies latencies) {
        try (Connection c = db.connect(APP); PreparedStatement ps = c.prepareStatement(
                "UPDATE " + TABLE + " SET v = v + 1 WHERE id = ?")) {
            while (!stop.get()) {
                ps.setLong(1, 1 + ThreadLocalRandom.current().nextLong(rows));
                long t0 = System.nanoTime();
                ps.executeUpdate();
                latencies.add(System.nanoTime() - t0);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("application load failed: " + e.getMessage(), e);
        }
    }

    private static void sample(Database db, AtomicBoolean stop, AtomicLong longestMicros) {
        try (Connection c = db.connect("bench"); PreparedStatement ps = c.prepareStatement(
                "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - query_start)) * 1e6, 0)::bigint "
                        + "FROM pg_stat_activity WHERE application_name LIKE ? AND wait_event_type = 'Lock'")) {
            ps.setString(1, "%" + APP + "%");
            while (!stop.get()) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    longestMicros.accumulateAndGet(rs.getLong(1), Math::max);
                }
                Thread.sleep(10);
            }
        } catch (SQLException | InterruptedException e) {
            throw new IllegalStateException("lock sampler failed: " + e.getMessage(), e);
        }
    }

    private static void exec(Database db, String sql) throws SQLException {
        try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static Path write(Options o, Map<String, String> machine, OffsetDateTime started, List<Case> cases)
            throws IOException {
        String base = LocalDate.now() + "-ddl-" + o.rows();
        StringBuilder b = new StringBuilder();
        b.append("# DDL benchmark: NOT NULL and a unique index on ").append(String.format(Locale.ROOT, "%,d", o.rows()))
                .append(" rows under an update load\n\n");
        ResultFiles.header(b, started, o.command(), machine);
        b.append("- load: ").append(o.clients()).append(" sessions, each `UPDATE ").append(TABLE)
                .append(" SET v = v + 1 WHERE id = <random>` in autocommit, back to back\n");
        b.append("\nEach case: 1 s of load, the DDL, 1 s of load. Statement times are the application's (JDBC, "
                + "wall). Longest lock wait: sampled every 10 ms from `pg_stat_activity` (an application session "
                + "with wait event type `Lock`, now − query start). Ratios: against the naive statement of the same "
                + "round. Staged = `coordinator.stage.Enforcer` as the driver runs it (finding query included; "
                + "`lock_timeout` " + LockSafeDdl.Policy.DEFAULT_LOCK_TIMEOUT.toMillis() + " ms, retried).\n\n");
        b.append("| round | case | DDL s | app statements | p50 ms | p99 ms | max ms | longest lock wait ms | "
                + "max ÷ naive | DDL s ÷ naive |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for (Case c : cases) {
            Case naive = naive(cases, c);
            b.append(String.format(Locale.ROOT, "| %d | %s | %.2f | %d | %.2f | %.2f | %.1f | %.1f | %s | %s |%n",
                    c.round(), c.name(), c.ddlSeconds(), c.statements(), c.p50Ms(), c.p99Ms(), c.maxMs(),
                    c.longestLockWaitMs(), naive == null ? "" : String.format(Locale.ROOT, "%.3f", c.maxMs() / naive.maxMs()),
                    naive == null ? "" : String.format(Locale.ROOT, "%.2f", c.ddlSeconds() / naive.ddlSeconds())));
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("rows", o.rows());
        fields.put("clients", o.clients());
        fields.put("cases", cases);
        return ResultFiles.write(o.out(), base, b.toString(), started, o.command(), machine, fields);
    }

    /** The naive case of the same round and item, for a staged case; null otherwise. */
    private static Case naive(List<Case> cases, Case c) {
        String item = c.name().startsWith("NOT NULL, staged") ? "NOT NULL, naive"
                : c.name().startsWith("unique index, staged") ? "unique index, naive" : null;
        return item == null ? null : cases.stream().filter(x -> x.round() == c.round() && x.name().startsWith(item))
                .findFirst().orElse(null);
    }
}
