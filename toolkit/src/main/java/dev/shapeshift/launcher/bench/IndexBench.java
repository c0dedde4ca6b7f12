package dev.shapeshift.launcher.bench;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.IndexCompactor;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.spec.Mode;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code shapeshift bench index}: the written table's index size after a backfill against a one-pass
 * build of the same rows, in both modes, in one run: the bulk statement, Shapeshift's backfill (n
 * workers), and then the driver's index step ({@link IndexCompactor}, as the driver runs it after the
 * backfill) — its time and the size it leaves.
 */
public final class IndexBench {
    /** What to run. */
    public record Options(long rows, int workers, int chunkRows, int partitions, double threshold, Path out,
                          String command) {
    }

    /** One mode's figures; sizes in bytes. */
    record Row(String mode, long onePass, long bulkIndex, long backfillIndex, double backfillSeconds, long afterStep,
               double stepSeconds, String stepSummary) {
        double ratio(long bytes) {
            return (double) bytes / onePass;
        }
    }

    private IndexBench() {
    }

    public static Path run(Options o, PrintStream out) throws Exception {
        try (BenchStack stack = BenchStack.withKafka("shapeshift_bench")) {
            Database db = stack.db();
            ServerCpu cpu = stack.cpu();
            List<Row> rows = new ArrayList<>();
            try (Connection c = db.connect("bench")) {
                for (Mode mode : List.of(Mode.TABLE, Mode.IN_PLACE)) {
                    // sub-batches of 1,000 rows, or the whole chunk when chunks are smaller (a batch may not exceed its chunk)
                    BenchOptions b = new BenchOptions(o.rows(), List.of(o.workers()), mode, o.chunkRows(), Math.min(1000, o.chunkRows()),
                            o.partitions(), 1.2, false, List.of(), false, "256m", o.out(), "", o.command(), false, 0);
                    Measurement bulk = BulkRun.run(c, b, cpu);
                    Measurement m = new WorkerRun(db, stack.kafka().bootstrapServers(), b, cpu).run(c, o.workers());
                    String table = BenchTables.written(mode);
                    long t0 = System.nanoTime();
                    List<IndexCompactor.Index> step = IndexCompactor.run(db, "bench", LockSafeDdl.of(db, "bench"),
                            "public", table, o.threshold());
                    double stepSeconds = (System.nanoTime() - t0) / 1e9;
                    long after = BenchTables.sizes(c, table).indexBytes();
                    Row r = new Row(mode == Mode.TABLE ? "table" : "in place", m.compactIndex(), bulk.indexAfter(),
                            m.indexAfter(), m.seconds(), after, stepSeconds, IndexCompactor.summary(step, o.threshold()));
                    rows.add(r);
                    out.printf(Locale.ROOT, "%s: one-pass %.1f MB; bulk %.2fx; backfill %.2fx; after the index step "
                                    + "%.2fx (%.1f s): %s%n", r.mode(), mb(r.onePass()), r.ratio(r.bulkIndex()),
                            r.ratio(r.backfillIndex()), r.ratio(r.afterStep()), r.stepSeconds(), r.stepSummary());
                }
            }
            Path md = write(o, stack.machine(), rows, stack.started());
            out.println("results: " + md + " (and .json)");
            return md;
        }
    }

    private static Path write(Options o, Map<String, String> machine, List<Row> rows, OffsetDateTime started)
            throws java.io.IOException {
        StringBuilder b = new StringBuilder("# Index size after the backfill, " + o.rows() + " rows\n\n");
        ResultFiles.header(b, started, o.command(), machine);
        b.append("\nOne-pass = the primary key of a compact copy of the same final rows (`CREATE UNLOGGED TABLE … AS "
                + "SELECT *` + `ADD PRIMARY KEY`), measured in the same run. Backfill: ").append(o.workers())
                .append(" worker(s), chunkRows ").append(o.chunkRows()).append(". Index step: `IndexCompactor` as the "
                        + "driver runs it after the backfill, threshold ").append(o.threshold()).append("× the one-pass "
                        + "size (`REINDEX INDEX CONCURRENTLY`).\n\n");
        b.append("| mode | one-pass MB | bulk statement ÷ one-pass | backfill ÷ one-pass | after the index step ÷ one-pass "
                + "| index step s | backfill s | what the step did |\n|---|---|---|---|---|---|---|---|\n");
        List<RowJson> json = new ArrayList<>();
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "| %s | %.1f | %.2f | %.2f | **%.2f** | %.1f | %.1f | %s |%n", r.mode(),
                    mb(r.onePass()), r.ratio(r.bulkIndex()), r.ratio(r.backfillIndex()), r.ratio(r.afterStep()),
                    r.stepSeconds(), r.backfillSeconds(), r.stepSummary()));
            json.add(new RowJson(r.mode(), r.onePass(), r.bulkIndex(), r.backfillIndex(), r.afterStep(),
                    r.ratio(r.backfillIndex()), r.ratio(r.afterStep()), r.stepSeconds(), r.backfillSeconds(), r.stepSummary()));
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("rows", o.rows());
        fields.put("workers", o.workers());
        fields.put("threshold", o.threshold());
        fields.put("results", json);
        return ResultFiles.write(o.out(), started.toLocalDate() + "-index-" + o.rows(), b.toString(), started,
                o.command(), machine, fields);
    }

    /** One mode's entry of the JSON's {@code results}. */
    @JsonPropertyOrder({"mode", "onePassBytes", "bulkIndexBytes", "backfillIndexBytes", "afterIndexStepBytes", "backfillRatio",
            "afterIndexStepRatio", "indexStepSeconds", "backfillSeconds", "indexStep"})
    record RowJson(String mode, long onePassBytes, long bulkIndexBytes, long backfillIndexBytes, long afterIndexStepBytes,
                   double backfillRatio, double afterIndexStepRatio, double indexStepSeconds, double backfillSeconds,
                   String indexStep) {
    }

    private static double mb(long bytes) {
        return bytes / 1048576.0;
    }
}
