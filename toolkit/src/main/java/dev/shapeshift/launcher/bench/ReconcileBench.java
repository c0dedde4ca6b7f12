package dev.shapeshift.launcher.bench;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.reconcile.Reconciler;
import dev.shapeshift.coordinator.reconcile.RunStore.Run;
import dev.shapeshift.coordinator.reconcile.SyncProgress;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.Reconcile;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.Source;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Target;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code shapeshift bench reconcile}: N identical rows in source and target (table mode, the
 * target filled by one {@code INSERT … SELECT} of the transform), then in rounds on the warm tables:
 * {@code count(*)} of both, one {@code sum(hashtextextended(t::text, 0))} scan of both (as planned,
 * parallel workers allowed, and serial), and a full {@link Reconciler#runOnce} pass per
 * {@code rangeRows} and {@code parallelism}, with this JVM's heap and resident memory. Throughput = source rows ÷ wall seconds; ratios against the hash scan of the
 * same round.
 */
public final class ReconcileBench {
    private static final Logger log = LoggerFactory.getLogger(ReconcileBench.class);

    /** {@code parallelism}: {@code reconcile.parallelism} values, one pass each per round and {@code rangeRows}. */
    public record Options(long rows, List<Integer> rangeRows, List<Integer> parallelism, int rounds, Path out,
                          String command) {
    }

    /**
     * One measurement; {@code peakHeapMb} is the largest heap in use this JVM saw while it ran
     * (sampled every 20 ms, garbage included), {@code peakRssMb} its peak resident memory (VmHWM,
     * reset before; null where that is not possible).
     */
    record Timing(int round, String name, double seconds, double rowsPerSecond, double serverCpuSeconds,
                  double jvmCpuSeconds, String load, double peakHeapMb, Long peakRssMb) {
    }

    private ReconcileBench() {
    }

    public static Path run(Options o, PrintStream out) throws Exception {
        OffsetDateTime started = OffsetDateTime.now();
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.defaults())) {
            Database db = BenchDb.withCatalog(pg, "shapeshift_bench");
            ServerCpu cpu = new ServerCpu(pg.dataDir());
            try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
                Map<String, String> machine = Machine.describe(c);
                long t0 = System.nanoTime();
                BenchTables.fresh(c, o.rows(), Mode.TABLE);
                s.execute("INSERT INTO " + BenchTables.TARGET + " (id, doubled, label) SELECT id, a * 2, upper(b) FROM "
                        + BenchTables.SOURCE);
                s.execute("VACUUM ANALYZE " + BenchTables.TARGET);
                s.execute("CHECKPOINT");
                double loadSeconds = (System.nanoTime() - t0) / 1e9;
                BenchTables.Sizes src = BenchTables.sizes(c, BenchTables.SOURCE);
                BenchTables.Sizes tgt = BenchTables.sizes(c, BenchTables.TARGET);
                out.printf(Locale.ROOT, "loaded %,d rows into source and target in %.1f s%n", o.rows(), loadSeconds);
                String hashPlan = explain(c, "SELECT sum(hashtextextended(t::text, 0)) FROM " + BenchTables.SOURCE + " t");

                Catalog catalog = new Catalog(db, "bench");
                // Warm-up: every table once through the buffer cache, untimed.
                hashBoth(c);
                List<Timing> timings = new ArrayList<>();
                int migrations = 0;
                for (int round = 1; round <= o.rounds(); round++) {
                    timings.add(time(o, cpu, round, "count(*) of both", () -> {
                        one(c, "SELECT count(*) FROM " + BenchTables.SOURCE);
                        one(c, "SELECT count(*) FROM " + BenchTables.TARGET);
                    }, out));
                    timings.add(time(o, cpu, round, "hash scan of both (as planned)", () -> hashBoth(c), out));
                    timings.add(time(o, cpu, round, "hash scan of both (serial: max_parallel_workers_per_gather=0)", () -> {
                        s.execute("SET max_parallel_workers_per_gather = 0");
                        try {
                            hashBoth(c);
                        } finally {
                            s.execute("RESET max_parallel_workers_per_gather");
                        }
                    }, out));
                    for (int range : o.rangeRows()) {
                        for (int k : o.parallelism()) {
                            String migration = "bench-reconcile-" + (++migrations);
                            MigrationSpec spec = new MigrationSpec(migration,
                                    new Source("public", BenchTables.SOURCE, List.of("id")), Mode.TABLE,
                                    new Target("public", BenchTables.TARGET, BenchTables.COLUMNS), null, null,
                                    new Reconcile(range, null, null, null, k), null, null);
                            ResolvedSpec resolved = SpecValidator.resolveExpanded(migration, spec, c);
                            catalog.create(migration, SpecJson.write(spec), "bench", "bench");
                            Reconciler reconciler = new Reconciler(catalog, migration, resolved, SyncProgress.NO_SYNC,
                                    new SimpleMeterRegistry(), Reconciler.Options.from(spec.reconcile()));
                            Run[] run = new Run[1];
                            timings.add(time(o, cpu, round, "reconcile, rangeRows " + range + ", parallelism " + k,
                                    () -> run[0] = reconciler.runOnce(() -> false), out));
                            if (run[0].rowsChecked() != o.rows() || run[0].driftFound() != 0) {
                                throw new IllegalStateException("reconcile checked " + run[0].rowsChecked() + " rows, found "
                                        + run[0].driftFound() + " drift; expected " + o.rows() + " and 0");
                            }
                        }
                    }
                }
                Path md = write(o, machine, started, timings, src, tgt, loadSeconds, hashPlan);
                out.println("results: " + md + " (and .json)");
                return md;
            }
        }
    }

    @FunctionalInterface
    private interface Work {
        void run() throws Exception;
    }

    private static Timing time(Options o, ServerCpu cpu, int round, String name, Work w, PrintStream out) throws Exception {
        String load = Machine.loadAverage();
        boolean peakReset = ProcessMemory.resetPeak();
        HeapSampler heap = HeapSampler.start();
        double db0 = cpu.serverSeconds();
        double jvm0 = ServerCpu.jvmSeconds();
        long t0 = System.nanoTime();
        try {
            w.run();
        } finally {
            heap.stop();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Timing t = new Timing(round, name, seconds, o.rows() / seconds, cpu.serverSeconds() - db0,
                ServerCpu.jvmSeconds() - jvm0, load, heap.peakMb(), peakReset ? ProcessMemory.peakMb() : null);
        out.printf(Locale.ROOT, "round %d %-62s %7.2f s  %,12.0f rows/s  server CPU %.2f s  heap peak %.0f MB  RSS peak %s MB%n",
                round, name, seconds, t.rowsPerSecond(), t.serverCpuSeconds(), t.peakHeapMb(), t.peakRssMb());
        log.info("bench reconcile round={} name=\"{}\" seconds={} rows_per_s={}", round, name, seconds,
                Math.round(t.rowsPerSecond()));
        return t;
    }

    /** The largest heap in use, sampled on a daemon thread every 20 ms until {@link #stop}. */
    private static final class HeapSampler implements Runnable {
        private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        private final Thread thread = new Thread(this, "bench-heap-sampler");
        private volatile boolean running = true;
        private volatile long peak;

        static HeapSampler start() {
            HeapSampler h = new HeapSampler();
            h.thread.setDaemon(true);
            h.thread.start();
            return h;
        }

        @Override
        public void run() {
            while (running) {
                peak = Math.max(peak, memory.getHeapMemoryUsage().getUsed());
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join();
            peak = Math.max(peak, memory.getHeapMemoryUsage().getUsed());
        }

        double peakMb() {
            return peak / 1e6;
        }
    }

    private static void hashBoth(Connection c) throws Exception {
        one(c, "SELECT sum(hashtextextended(t::text, 0)) FROM " + BenchTables.SOURCE + " t");
        one(c, "SELECT sum(hashtextextended(t::text, 0)) FROM " + BenchTables.TARGET + " t");
    }

    private static void one(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
        }
    }

    private static String explain(Connection c, String sql) throws Exception {
        StringBuilder b = new StringBuilder();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("EXPLAIN " + sql)) {
            while (rs.next()) {
                b.append(rs.getString(1)).append("\n");
            }
        }
        return b.toString();
    }

    private static Path write(Options o, Map<String, String> machine, OffsetDateTime started, List<Timing> timings,
                              BenchTables.Sizes src, BenchTables.Sizes tgt, double loadSeconds, String hashPlan)
            throws IOException {
        String base = LocalDate.now() + "-reconcile-" + o.rows();
        StringBuilder b = new StringBuilder();
        b.append("# Reconcile benchmark: ").append(String.format(Locale.ROOT, "%,d", o.rows())).append(" rows, table mode\n\n");
        ResultFiles.header(b, started, o.command(), machine);
        b.append(String.format(Locale.ROOT, "- source heap %.1f MB + index %.1f MB, target heap %.1f MB + index %.1f MB; "
                + "load of both %.1f s%n", src.heapBytes() / 1e6, src.indexBytes() / 1e6, tgt.heapBytes() / 1e6,
                tgt.indexBytes() / 1e6, loadSeconds));
        b.append("\n**Noisy**: one shared 2-core machine loaded by other builds. rows/s = source rows ÷ wall seconds "
                + "(every method reads both tables). Ratio = rows/s ÷ rows/s of the hash scan (as planned) of the "
                + "same round. Warm cache (one untimed hash scan of both tables first). Reconcile = "
                + "`Reconciler.runOnce` with `SyncProgress.NO_SYNC`: range ends, the per-range compare "
                + "statement on `parallelism` sessions at once, a catalog checkpoint per range in key order. "
                + "Memory of this JVM (it is the coordinator here: the reconcile runs in it): heap peak = largest "
                + "heap in use sampled every 20 ms during the measurement (garbage included; the heap limit is "
                + "the `jvm max heap` above); RSS peak = VmHWM, reset before each measurement.\n\n");
        b.append("| round | what | s | rows/s | ÷ hash scan (as planned) | ÷ hash scan (serial) | server CPU s | "
                + "server CPU µs/row | JVM CPU s | JVM heap peak MB | JVM RSS peak MB | load avg at start |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Timing t : timings) {
            Timing hash = find(timings, t.round(), "hash scan of both (as planned)");
            Timing serial = find(timings, t.round(), "hash scan of both (serial");
            b.append(String.format(Locale.ROOT, "| %d | %s | %.2f | %,.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %s | %s |%n",
                    t.round(), t.name(), t.seconds(), t.rowsPerSecond(), t.rowsPerSecond() / hash.rowsPerSecond(),
                    t.rowsPerSecond() / serial.rowsPerSecond(), t.serverCpuSeconds(),
                    t.serverCpuSeconds() * 1e6 / o.rows(), t.jvmCpuSeconds(), t.peakHeapMb(),
                    t.peakRssMb() == null ? "n/a" : t.peakRssMb().toString(), t.load()));
        }
        b.append("\n## Plan of the hash scan (source)\n\n```\n").append(hashPlan).append("```\n");
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("rows", o.rows());
        fields.put("rangeRows", o.rangeRows());
        fields.put("parallelism", o.parallelism());
        fields.put("timings", timings);
        List<Map<String, Object>> ratios = new ArrayList<>();
        for (Timing t : timings) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("round", t.round());
            m.put("name", t.name());
            m.put("ratioToHashScan", t.rowsPerSecond() / find(timings, t.round(), "hash scan of both (as planned)").rowsPerSecond());
            m.put("ratioToSerialHashScan", t.rowsPerSecond() / find(timings, t.round(), "hash scan of both (serial").rowsPerSecond());
            ratios.add(m);
        }
        fields.put("ratios", ratios);
        return ResultFiles.write(o.out(), base, b.toString(), started, o.command(), machine, fields);
    }

    private static Timing find(List<Timing> timings, int round, String prefix) {
        return timings.stream().filter(t -> t.round() == round && t.name().startsWith(prefix)).findFirst().orElseThrow();
    }
}
