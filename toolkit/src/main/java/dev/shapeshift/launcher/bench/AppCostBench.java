package dev.shapeshift.launcher.bench;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.Knob;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.embedded.EmbeddedPostgres;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code shapeshift bench backfill --app-load-scale N}: what the backfill costs an application and
 * what the team's cap ({@code max-app-latency-pct}) leaves of it (issue 18, goal 6). pgbench's
 * TPC-B-like script runs all along under a role of its own ({@code bench_app}, so
 * {@code pg_stat_statements} counts it as the application's); in the same run its throughput is
 * measured without Shapeshift (a window before the backfills and one after), during an uncapped
 * backfill and during backfills capped at each given %. The application's transactions are counted
 * independently of pgbench and of Shapeshift: rows added to {@code pgbench_history} (one per
 * transaction) over each window.
 *
 * <p>The backfill writes {@code bench_src} (as {@code bench backfill} does), not pgbench's tables:
 * the cost measured is the server's (CPU, I/O, WAL) — no row locks are shared with the application
 * and no sync runs.
 */
public final class AppCostBench {
    static final String APP_ROLE = "bench_app";
    private static final String APP_PASSWORD = "bench";

    /**
     * The application load and the caps to measure.
     *
     * @param scale           pgbench -i -s (100,000 accounts each)
     * @param clients         pgbench -c
     * @param threads         pgbench -j
     * @param capsPct         one backfill per value: {@code max-app-latency-pct}, 0 = uncapped
     * @param windowSeconds   the windows without Shapeshift
     * @param pgbench         the pgbench binary
     */
    public record AppLoad(int scale, int clients, int threads, List<Integer> capsPct, int windowSeconds, String pgbench) {
    }

    /** One window of the application's load. */
    record Window(String name, double seconds, long transactions, long statements, double appStatementMs, Long backfillRows,
                  Double heldShare, Long baselineUs, Double tpsAfterBaseline, String loadStart, String loadEnd) {
        double tps() {
            return transactions / seconds;
        }
    }

    private AppCostBench() {
    }

    public static Path run(BenchOptions o, AppLoad a, PrintStream out) throws Exception {
        OffsetDateTime started = OffsetDateTime.now();
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.defaults());
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String dbName = pg.createDatabase("shapeshift_bench");
            Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
            CatalogSchema.migrate(db);
            ServerCpu cpu = new ServerCpu(pg.dataDir());
            try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
                Map<String, String> machine = Machine.describe(c);
                long t = System.nanoTime();
                new Pgbench(a.pgbench(), pg.host(), pg.port(), pg.user(), pg.password(), dbName).init(a.scale());
                s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
                s.execute("CREATE ROLE " + APP_ROLE + " LOGIN PASSWORD '" + APP_PASSWORD + "'");
                s.execute("GRANT SELECT, INSERT, UPDATE ON pgbench_accounts, pgbench_branches, pgbench_tellers, "
                        + "pgbench_history TO " + APP_ROLE);
                s.execute("VACUUM ANALYZE");
                s.execute("CHECKPOINT");
                out.printf(Locale.ROOT, "pgbench -i -s %d: %.1f s%n", a.scale(), (System.nanoTime() - t) / 1e9);
                Pgbench app = new Pgbench(a.pgbench(), pg.host(), pg.port(), APP_ROLE, APP_PASSWORD, dbName);
                Process load = app.background(a.clients(), a.threads(), 24 * 3600);
                List<Window> windows = new ArrayList<>();
                try {
                    Thread.sleep(10_000); // warm-up
                    alive(load);
                    WorkerRun workers = new WorkerRun(db, kafka.bootstrapServers(), o, cpu);
                    for (int pct : a.capsPct()) {
                        // The table's reload for the next backfill runs first, outside every window.
                        windows.add(backfill(c, db, workers, o.workers().get(0), pct, load,
                                () -> windows.add(AppCostReport.print(out, windows, quiet(c, "no Shapeshift", a.windowSeconds())))));
                        AppCostReport.print(out, windows, windows.get(windows.size() - 1));
                    }
                    windows.add(AppCostReport.print(out, windows, quiet(c, "no Shapeshift", a.windowSeconds())));
                } finally {
                    load.destroy();
                    load.waitFor();
                }
                Path md = AppCostReport.write(o, a, machine, started, windows);
                out.println("results: " + md + " (and .json)");
                return md;
            }
        }
    }

    private static void alive(Process load) {
        if (!load.isAlive()) {
            throw new IllegalStateException("pgbench (the application's load) exited with " + load.exitValue());
        }
    }

    private static Window quiet(Connection c, String name, int seconds) throws Exception {
        String l0 = Machine.loadAverage();
        long tx0 = transactions(c);
        double[] st0 = appStatements(c);
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long tx1 = transactions(c);
        double secs = (System.nanoTime() - t0) / 1e9;
        double[] st1 = appStatements(c);
        return new Window(name, secs, tx1 - tx0, (long) (st1[0] - st0[0]), meanMs(st0, st1), null, null, null, null, l0, Machine.loadAverage());
    }

    /** Something run just before the backfill's window (after the table's reload). */
    private interface Before {
        void run() throws Exception;
    }

    private static Window backfill(Connection c, Database db, WorkerRun workers, int n, int pct, Process load,
                                   Before before) throws Exception {
        Catalog catalog = new Catalog(db, "bench");
        AtomicReference<String> migration = new AtomicReference<>();
        long[] tx = new long[2];
        double[][] st = new double[2][];
        long[] nanos = new long[2];
        String[] loadAvg = new String[2];
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong samples = new AtomicLong();
        AtomicLong held = new AtomicLong();
        AtomicLong baselineAtNanos = new AtomicLong();
        AtomicLong baselineAtTx = new AtomicLong();
        AtomicLong baselineUs = new AtomicLong();
        Thread watcher = new Thread(() -> watch(db, migration, stop, samples, held, baselineAtNanos, baselineAtTx,
                baselineUs), "bench-app-cost-watcher");
        Measurement m = workers.run(c, n, new WorkerRun.Window() {
            @Override
            public void started(String name) throws Exception {
                before.run();
                if (pct > 0) {
                    catalog.putSetting(name, Knob.MAX_APP_LATENCY_PCT.key(), Integer.toString(pct), "bench", "bench");
                }
                migration.set(name);
                loadAvg[0] = Machine.loadAverage();
                tx[0] = transactions(c);
                st[0] = appStatements(c);
                nanos[0] = System.nanoTime();
                watcher.start();
            }

            @Override
            public void ended() throws Exception {
                tx[1] = transactions(c);
                nanos[1] = System.nanoTime();
                st[1] = appStatements(c);
                loadAvg[1] = Machine.loadAverage();
                stop.set(true);
            }
        });
        stop.set(true);
        watcher.join();
        alive(load);
        Double after = null;
        if (baselineAtNanos.get() > 0 && nanos[1] > baselineAtNanos.get()) {
            after = (tx[1] - baselineAtTx.get()) / ((nanos[1] - baselineAtNanos.get()) / 1e9);
        }
        return new Window(pct > 0 ? "backfill, max-app-latency-pct=" + pct : "backfill, uncapped",
                (nanos[1] - nanos[0]) / 1e9, tx[1] - tx[0], (long) (st[1][0] - st[0][0]), meanMs(st[0], st[1]), m.rows(),
                samples.get() == 0 ? null : (double) held.get() / samples.get(), baselineUs.get() > 0 ? baselineUs.get() : null,
                after, loadAvg[0], loadAvg[1]);
    }

    /**
     * Every 200 ms while a backfill runs: whether a running chunk waits on the load throttle, and
     * when the % cap's baseline was stored (and the application's transactions then).
     */
    private static void watch(Database db, AtomicReference<String> migration, AtomicBoolean stop, AtomicLong samples,
                              AtomicLong held, AtomicLong baselineAtNanos, AtomicLong baselineAtTx, AtomicLong baselineUs) {
        try (Connection c = db.connect("bench-watch")) {
            while (!stop.get()) {
                try (var ps = c.prepareStatement("SELECT count(*) FILTER (WHERE status = 'running'), count(*) FILTER "
                        + "(WHERE status = 'running' AND throttle_reason LIKE 'load:%'), (SELECT value FROM "
                        + "shapeshift.setting WHERE migration = ? AND name = ?) FROM shapeshift.chunk WHERE migration = ?")) {
                    ps.setString(1, migration.get());
                    ps.setString(2, Knob.APP_LATENCY_BASELINE_US.key());
                    ps.setString(3, migration.get());
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getLong(1) > 0) {
                            samples.incrementAndGet();
                            if (rs.getLong(2) > 0) {
                                held.incrementAndGet();
                            }
                        }
                        String baseline = rs.getString(3);
                        if (baseline != null && baselineAtNanos.get() == 0) {
                            baselineAtNanos.set(System.nanoTime());
                            baselineAtTx.set(transactions(c));
                            baselineUs.set(Long.parseLong(baseline));
                        }
                    }
                }
                Thread.sleep(200);
            }
        } catch (SQLException | InterruptedException e) {
            throw new IllegalStateException("bench watcher: " + e, e);
        }
    }

    /** The application's transactions so far: pgbench's TPC-B-like script adds one history row each. */
    private static long transactions(Connection c) throws SQLException {
        return BenchTables.count(c, "SELECT count(*) FROM pgbench_history");
    }

    /** The application's statements so far (pg_stat_statements, role bench_app): calls, total ms. */
    private static double[] appStatements(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT coalesce(sum(calls), 0)::float8, "
                + "coalesce(sum(total_exec_time), 0)::float8 FROM pg_stat_statements JOIN pg_roles r ON r.oid = userid "
                + "WHERE r.rolname = '" + APP_ROLE + "'")) {
            rs.next();
            return new double[] {rs.getDouble(1), rs.getDouble(2)};
        }
    }

    private static double meanMs(double[] before, double[] after) {
        double calls = after[0] - before[0];
        return calls <= 0 ? Double.NaN : (after[1] - before[1]) / calls;
    }
}
