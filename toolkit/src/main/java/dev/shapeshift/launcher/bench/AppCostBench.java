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
import java.util.LinkedHashMap;
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
    private static final String APP_ROLE = "bench_app";
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
                                () -> windows.add(print(out, windows, quiet(c, "no Shapeshift", a.windowSeconds())))));
                        print(out, windows, windows.get(windows.size() - 1));
                    }
                    windows.add(print(out, windows, quiet(c, "no Shapeshift", a.windowSeconds())));
                } finally {
                    load.destroy();
                    load.waitFor();
                }
                Path md = write(o, a, machine, started, windows);
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
        String l0 = SyncRuns.loadAverage();
        long tx0 = transactions(c);
        double[] st0 = appStatements(c);
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long tx1 = transactions(c);
        double secs = (System.nanoTime() - t0) / 1e9;
        double[] st1 = appStatements(c);
        return new Window(name, secs, tx1 - tx0, (long) (st1[0] - st0[0]), meanMs(st0, st1), null, null, null, null, l0, SyncRuns.loadAverage());
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
                loadAvg[0] = SyncRuns.loadAverage();
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
                loadAvg[1] = SyncRuns.loadAverage();
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

    /** The mean of the windows without Shapeshift next to window i (before and after it). */
    private static double neighbourTps(List<Window> windows, int i) {
        return java.util.stream.IntStream.of(i - 1, i + 1).filter(j -> j >= 0 && j < windows.size())
                .mapToObj(windows::get).filter(w -> w.backfillRows() == null).mapToDouble(Window::tps).average()
                .orElse(Double.NaN);
    }

    private static double neighbourMs(List<Window> windows, int i) {
        return java.util.stream.IntStream.of(i - 1, i + 1).filter(j -> j >= 0 && j < windows.size())
                .mapToObj(windows::get).filter(w -> w.backfillRows() == null).mapToDouble(Window::appStatementMs)
                .average().orElse(Double.NaN);
    }

    private static double quietTps(List<Window> windows) {
        return windows.stream().filter(w -> w.backfillRows() == null).mapToDouble(Window::tps).average().orElse(Double.NaN);
    }

    private static double quietMs(List<Window> windows) {
        return windows.stream().filter(w -> w.backfillRows() == null).mapToDouble(Window::appStatementMs).average()
                .orElse(Double.NaN);
    }

    private static Window print(PrintStream out, List<Window> windows, Window w) {
        out.printf(Locale.ROOT, "%-40s %6.1f s  %7.1f tps (%.2f x without)  app statements %.3f ms%s%n", w.name(),
                w.seconds(), w.tps(), w.tps() / quietTps(windows), w.appStatementMs(), w.backfillRows() == null ? ""
                        : String.format(Locale.ROOT, "  backfill %,.0f rows/s", w.backfillRows() / w.seconds()));
        return w;
    }

    private static Path write(BenchOptions o, AppLoad a, Map<String, String> machine, OffsetDateTime started,
                              List<Window> windows) throws Exception {
        double tps0 = quietTps(windows);
        double ms0 = quietMs(windows);
        StringBuilder b = new StringBuilder("# Backfill cost to the application: pgbench throughput without Shapeshift, "
                + "during a backfill, during a backfill under max-app-latency-pct\n\n");
        ResultFiles.header(b, started, o.command(), machine);
        b.append(String.format(Locale.ROOT, "- application: `pgbench -n -c %d -j %d` (built-in TPC-B-like script) as role "
                + "`%s`, scale %d (%,d accounts), running all along; transactions counted as rows added to "
                + "pgbench_history per window%n", a.clients(), a.threads(), APP_ROLE, a.scale(), a.scale() * 100_000L));
        b.append(String.format(Locale.ROOT, "- backfill: %s, %,d rows of bench_src (not pgbench's tables: no shared row "
                + "locks, no sync), %d worker(s), chunkRows %d%n", o.mode(), o.rows(), o.workers().get(0), o.chunkRows()));
        b.append("- baseline: the windows without Shapeshift of this same run, one right before each backfill (after its "
                + "table's reload) and one at the end; **each backfill's ratio is against the mean of the two windows "
                + "next to it** (the machine's other load drifts over minutes), the last column against all of them\n");
        b.append("- app statement ms: mean execution time per statement of role bench_app (pg_stat_statements) in the "
                + "window — what the cap compares; seen share: statements per transaction × that time ÷ the transaction "
                + "time pgbench's clients saw (clients ÷ tps), i.e. how much of the application's time the signal sees "
                + "(commit, WAL flush, client and network time are outside it)\n");
        b.append("- held: share of 200 ms samples in which a running chunk waited on a `load:` reason; baseline: the "
                + "`app-latency-baseline-us` the workers measured (5 s, no worker copying) and stored\n\n");
        b.append("| window | seconds | pgbench tps | tps ÷ without (next to it) | app statement ms | ÷ without (next to it) "
                + "| statements / txn | seen share | backfill rows/s | held | baseline (µs) | tps ÷ without (next to it), "
                + "after the baseline was stored | tps ÷ without (all) | load avg start → end |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        List<Map<String, Object>> json = new ArrayList<>();
        for (int i = 0; i < windows.size(); i++) {
            Window w = windows.get(i);
            boolean bf = w.backfillRows() != null;
            double near = bf ? neighbourTps(windows, i) : tps0;
            double nearMs = bf ? neighbourMs(windows, i) : ms0;
            double perTxn = w.statements() / (double) w.transactions();
            double seen = perTxn * w.appStatementMs() / (a.clients() * 1000.0 / w.tps());
            b.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %s | %.3f | %s | %.1f | %.1f%% | %s | %s | %s | %s | "
                            + "%.2f | %s → %s |%n",
                    w.name(), w.seconds(), w.tps(), bf ? String.format(Locale.ROOT, "**%.2f**", w.tps() / near) : "–",
                    w.appStatementMs(), bf ? String.format(Locale.ROOT, "%.2f", w.appStatementMs() / nearMs) : "–",
                    perTxn, seen * 100,
                    bf ? String.format(Locale.ROOT, "%,.0f", w.backfillRows() / w.seconds()) : "–",
                    w.heldShare() == null ? "–" : String.format(Locale.ROOT, "%.0f%%", w.heldShare() * 100),
                    w.baselineUs() == null ? "–" : w.baselineUs().toString(),
                    w.tpsAfterBaseline() == null ? "–" : String.format(Locale.ROOT, "%.2f", w.tpsAfterBaseline() / near),
                    w.tps() / tps0, load3(w.loadStart()), load3(w.loadEnd())));
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("window", w.name());
            j.put("seconds", w.seconds());
            j.put("transactions", w.transactions());
            j.put("tps", w.tps());
            j.put("tpsRatioNextTo", bf ? w.tps() / near : null);
            j.put("tpsRatioAll", w.tps() / tps0);
            j.put("appStatementMs", w.appStatementMs());
            j.put("appStatementsPerTransaction", perTxn);
            j.put("seenShare", seen);
            j.put("backfillRows", w.backfillRows());
            j.put("backfillRowsPerSecond", bf ? w.backfillRows() / w.seconds() : null);
            j.put("heldShare", w.heldShare());
            j.put("baselineUs", w.baselineUs());
            j.put("tpsRatioNextToAfterBaseline", w.tpsAfterBaseline() == null ? null : w.tpsAfterBaseline() / near);
            j.put("loadAverageStart", w.loadStart());
            j.put("loadAverageEnd", w.loadEnd());
            json.add(j);
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("scale", a.scale());
        fields.put("clients", a.clients());
        fields.put("rows", o.rows());
        fields.put("mode", o.mode().toString());
        fields.put("workers", o.workers().get(0));
        fields.put("windows", json);
        String base = started.toLocalDate() + "-backfill-app-cost-s" + a.scale() + "-" + o.rows()
                + (o.label().isEmpty() ? "" : "-" + o.label());
        return ResultFiles.write(o.out(), base, b.toString(), started, o.command(), machine, fields);
    }

    private static String load3(String loadavg) {
        String[] p = loadavg.split(" ");
        return p.length >= 3 ? p[0] + " " + p[1] + " " + p[2] : loadavg;
    }
}
