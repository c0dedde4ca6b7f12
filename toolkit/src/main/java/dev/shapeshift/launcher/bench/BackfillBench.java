package dev.shapeshift.launcher.bench;

import dev.shapeshift.db.Database;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code shapeshift bench backfill}: the bulk baseline and Shapeshift's backfill with 1, 2, 4…
 * workers, in one run on one embedded PostgreSQL (fsync on) and Kafka, each on a fresh table.
 */
public final class BackfillBench {
    private static final Logger log = LoggerFactory.getLogger(BackfillBench.class);

    private BackfillBench() {
    }

    public static Path run(BenchOptions o, PrintStream out) throws Exception {
        try (BenchStack stack = BenchStack.withKafka("shapeshift_bench")) {
            Database db = stack.db();
            ServerCpu cpu = stack.cpu();
            try (Connection c = db.connect("bench")) {
                Map<String, String> machine = stack.machine();
                machine.put("new connection (scram-sha-256, 127.0.0.1), median of 20", String.format(Locale.ROOT,
                        "%.1f ms (the catalog opens one per call, e.g. per chunk lease)", connectMillis(db)));
                log.info("bench started mode={} rows={} workers={}", o.mode(), o.rows(), o.workers());
                Measurement bulk = BulkRun.run(c, o, cpu);
                out.printf(Locale.ROOT, "baseline %s: %,.0f rows/s (%.2fs)%n", bulk.name(), bulk.rowsPerSecond(), bulk.seconds());
                List<Measurement> peers = o.peers() ? PeerRuns.run(c, o, cpu) : List.of();
                for (Measurement m : peers) {
                    out.printf(Locale.ROOT, "peer %s: %,.0f rows/s = %.2f x bulk, %d transactions, p99 %.0f ms%n", m.name(),
                            m.rowsPerSecond(), m.rowsPerSecond() / bulk.rowsPerSecond(), m.transactions(), nz(m.p99Ms()));
                }
                List<Measurement> runs = new ArrayList<>();
                WorkerRun workers = new WorkerRun(db, stack.kafka().bootstrapServers(), o, cpu);
                for (int n : o.workers()) {
                    Measurement m = workers.run(c, n);
                    runs.add(m);
                    out.printf(Locale.ROOT, "shapeshift %d worker(s): %,.0f rows/s = %.2f x bulk, p50 %.0f ms, p99 %.0f ms%n",
                            n, m.rowsPerSecond(), m.rowsPerSecond() / bulk.rowsPerSecond(), nz(m.p50Ms()), nz(m.p99Ms()));
                }
                ShapeProbe probe = new ShapeProbe(db, o, cpu);
                List<String> plans = o.shapes() ? probe.explain(c) : List.of();
                List<Measurement> shapes = o.shapes() ? probe.run(c) : List.of();
                for (Measurement m : shapes) {
                    out.printf(Locale.ROOT, "shape %-62s x%d: %,.0f rows/s = %.2f x bulk%n", m.name(), m.workers(),
                            m.rowsPerSecond(), m.rowsPerSecond() / bulk.rowsPerSecond());
                }
                Machine.atEnd(machine);
                Path md = Report.write(o, machine, bulk, peers, runs, shapes, plans, stack.started());
                out.println("results: " + md + " (and .json)");
                return md;
            }
        }
    }

    private static double connectMillis(Database db) throws Exception {
        Latencies l = new Latencies();
        for (int i = 0; i < 20; i++) {
            long t = System.nanoTime();
            try (Connection c = db.connect("bench"); var s = c.createStatement()) {
                s.execute("SELECT 1");
            }
            l.add(System.nanoTime() - t);
        }
        return l.percentile(50);
    }

    private static double nz(Double d) {
        return d == null ? 0 : d;
    }
}
