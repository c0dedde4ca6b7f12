package dev.shapeshift.launcher.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.spec.Mode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * {@code shapeshift bench all}: every benchmark of issue 18 in one go, one after the other, each
 * writing its own result files into {@code <out>/<date>-all-<rows>/}, then ONE summary
 * ({@code <out>/<date>-all-<rows>.md} and {@code .json}): every ratio beside its baseline, with the
 * machine, date and command. The run is a list of {@link Step}s: a step runs one benchmark and
 * reads the rows of the summary from the JSON that benchmark wrote, so a new benchmark is one more
 * entry in {@link #steps}. A step that fails is reported as failed in the summary; the others still run.
 */
public final class AllBench {
    private static final Logger log = LoggerFactory.getLogger(AllBench.class);

    /**
     * What {@code bench all} runs.
     *
     * @param rows        rows of the backfill, reconcile, index and plan benchmarks
     * @param workers     backfill workers
     * @param syncScale   pgbench scale of the sync benchmark (100,000 accounts each)
     * @param syncSeconds seconds per pgbench run of the sync benchmark
     * @param pgbench     pgbench binary
     * @param out         directory of the summary; the steps' own files go to a subdirectory
     * @param command     the command line, for the report
     */
    public record Options(long rows, int workers, int syncScale, int syncSeconds, String pgbench, Path out,
                          String command) {
    }

    /** One row of the summary: what was measured, against which baseline of the same run, and the ratio. */
    public record Row(String step, String measured, String value, String baseline, Double ratio, String file) {
    }

    /** Runs one benchmark and returns its markdown result; its JSON lies beside it. */
    @FunctionalInterface
    public interface Runner {
        Path run(Path dir, PrintStream out) throws Exception;
    }

    /** Reads the summary rows from a benchmark's JSON result. */
    @FunctionalInterface
    public interface Rows {
        List<Row> read(String step, JsonNode json, String file);
    }

    /** One benchmark of the run. */
    public record Step(String name, Runner runner, Rows rows) {
    }

    /** What a step gave: its rows, or why it failed. */
    record Outcome(Step step, List<Row> rows, String failure, double seconds) {
    }

    private AllBench() {
    }

    /** The steps of issue 18 with this run's options, in the order they run. */
    public static List<Step> steps(Options o) {
        List<Step> steps = new ArrayList<>();
        for (Mode mode : List.of(Mode.TABLE, Mode.IN_PLACE)) {
            String name = "backfill " + (mode == Mode.TABLE ? "table" : "in place");
            steps.add(new Step(name, (dir, out) -> BackfillBench.run(new BenchOptions(o.rows(), List.of(o.workers()), mode,
                    50_000, 1000, 8, 1.2, false, List.of(), false, "256m", dir, "", command("backfill", "--rows "
                    + o.rows() + " --workers " + o.workers() + " --mode " + (mode == Mode.TABLE ? "table" : "in-place")
                    + " --chunk-rows 50000 --batch-rows 1000 --partitions 8 --max-heap-growth 1.2 --naive-batch-rows 10000",
                    dir), true, 10_000), out), AllBench::backfillRows));
        }
        steps.add(new Step("reconcile", (dir, out) -> ReconcileBench.run(new ReconcileBench.Options(o.rows(),
                List.of(50_000), List.of(1, 2), 1, dir, command("reconcile", "--rows " + o.rows()
                + " --range-rows 50000 --parallelism 1,2 --rounds 1", dir)),
                out), AllBench::reconcileRows));
        steps.add(new Step("index", (dir, out) -> IndexBench.run(new IndexBench.Options(o.rows(), o.workers(), 50_000, 8,
                1.15, dir, command("index", "--rows " + o.rows() + " --workers " + o.workers()
                + " --chunk-rows 50000 --partitions 8 --reindex-above-pct 115", dir)), out), AllBench::indexRows));
        steps.add(new Step("plan", (dir, out) -> PlanBench.run(new PlanBench.Options(o.rows(), 50_000, dir,
                command("plan", "--rows " + o.rows() + " --chunk-rows 50000", dir)), out), AllBench::planRows));
        steps.add(new Step("sync", (dir, out) -> SyncBench.run(new SyncBench.Options(o.syncScale(), o.syncSeconds(), 0, 4, 2,
                100, 5, 4, o.pgbench(), dir, command("sync", "--scale " + o.syncScale() + " --duration " + o.syncSeconds()
                + " --rate 0 --clients 4 --threads 2 --probe-ms 100 --poll-ms 5 --partitions 4 --pgbench " + o.pgbench(), dir),
                false, false, true), out), AllBench::syncRows));
        steps.add(new Step("sync during an in-place backfill", (dir, out) -> SyncBench.run(new SyncBench.Options(
                o.syncScale(), o.syncSeconds(), 0, 4, 2, 100, 5, 4, o.pgbench(), dir, command("sync", "--scale "
                + o.syncScale() + " --duration " + o.syncSeconds() + " --rate 0 --clients 4 --threads 2 --probe-ms 100 "
                + "--poll-ms 5 --partitions 4 --no-native --backfill-during --pgbench " + o.pgbench(), dir),
                true, false, false, false, true), out), AllBench::backfillDuringRows));
        return steps;
    }

    /** The command that repeats one step on its own (its report records it; the summary records {@code bench all}'s). */
    private static String command(String sub, String options, Path dir) {
        return "shapeshift bench " + sub + " " + options + " --out " + dir;
    }

    public static Path run(Options o, List<Step> steps, PrintStream out) throws IOException {
        OffsetDateTime started = OffsetDateTime.now();
        Map<String, String> machine = new LinkedHashMap<>();
        machine.put("nproc", Integer.toString(Runtime.getRuntime().availableProcessors()));
        machine.put("load average at start", Machine.loadAverage());
        String base = LocalDate.now() + "-all-" + o.rows();
        Path dir = o.out().resolve(base);
        Files.createDirectories(dir);
        List<Outcome> outcomes = new ArrayList<>();
        for (Step step : steps) {
            out.println("== bench all: " + step.name());
            long t0 = System.nanoTime();
            try {
                Path md = step.runner().run(dir, out);
                Path json = md.resolveSibling(md.getFileName().toString().replaceFirst("\\.md$", ".json"));
                JsonNode node = new ObjectMapper().readTree(json.toFile());
                if (node.has("machine") && !machine.containsKey("cpu")) {
                    node.get("machine").fields().forEachRemaining(e -> machine.putIfAbsent(e.getKey(), e.getValue().asText()));
                }
                outcomes.add(new Outcome(step, step.rows().read(step.name(), node, o.out().relativize(md).toString()),
                        null, (System.nanoTime() - t0) / 1e9));
            } catch (Exception e) {
                log.warn("bench all: step failed step={} error={}", step.name(), e.toString(), e);
                outcomes.add(new Outcome(step, List.of(), e.toString(), (System.nanoTime() - t0) / 1e9));
            }
        }
        machine.put("load average at end", Machine.loadAverage());
        Path md = write(o.out(), base, started, o.command(), machine, outcomes);
        out.println("summary: " + md + " (and .json)");
        return md;
    }

    /** Writes the summary: one table of every step's rows, and the JSON of the same rows. */
    static Path write(Path dir, String base, OffsetDateTime started, String command, Map<String, String> machine,
                      List<Outcome> outcomes) throws IOException {
        StringBuilder b = new StringBuilder("# Every benchmark of issue 18 in one run (`bench all`)\n\n");
        ResultFiles.header(b, started, command, machine);
        b.append("\nEach step ran its own benchmark (its files: `").append(base).append("/`), on a fresh embedded "
                + "PostgreSQL (fsync on); every ratio is against a baseline measured in that same step. "
                + "Ratios are measured ÷ baseline (rows/s, tps or bytes, as the row says).\n\n");
        b.append("| step | measured | value | baseline (same run) | ratio | file |\n|---|---|---|---|---|---|\n");
        List<Map<String, Object>> steps = new ArrayList<>();
        for (Outcome oc : outcomes) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("step", oc.step().name());
            s.put("seconds", Math.round(oc.seconds() * 10) / 10.0);
            if (oc.failure() != null) {
                b.append("| ").append(oc.step().name()).append(" | **failed**: ").append(oc.failure().replace("|", "\\|"))
                        .append(" | – | – | – | – |\n");
                s.put("failed", oc.failure());
            }
            for (Row r : oc.rows()) {
                b.append("| ").append(r.step()).append(" | ").append(r.measured()).append(" | ").append(r.value())
                        .append(" | ").append(r.baseline()).append(" | ")
                        .append(r.ratio() == null ? "–" : String.format(Locale.ROOT, "%.2f", r.ratio()))
                        .append(" | ").append(r.file()).append(" |\n");
            }
            s.put("rows", oc.rows());
            steps.add(s);
        }
        b.append("\nStep wall times: ");
        b.append(String.join(", ", outcomes.stream().map(oc -> String.format(Locale.ROOT, "%s %.0f s", oc.step().name(),
                oc.seconds())).toList())).append(".\n");
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("steps", steps);
        return ResultFiles.write(dir, base, b.toString(), started, command, machine, fields);
    }

    static List<Row> backfillRows(String step, JsonNode json, String file) {
        List<Row> rows = new ArrayList<>();
        JsonNode bulk = json.path("baseline");
        String baseline = String.format(Locale.ROOT, "%s %,d rows/s", bulk.path("name").asText(),
                bulk.path("rowsPerSecond").asLong());
        for (String group : List.of("peers", "shapeshift")) {
            for (JsonNode m : json.path(group)) {
                String name = m.path("name").asText() + ("shapeshift".equals(group) ? ", " + m.path("workers").asInt()
                        + " worker(s)" : "");
                rows.add(new Row(step, name, String.format(Locale.ROOT, "%,d rows/s, p99 / max %s / %s ms",
                        m.path("rowsPerSecond").asLong(), ms(m.path("p99Ms")), ms(m.path("maxMs"))), baseline,
                        m.path("ratioToBulk").asDouble(), file));
            }
        }
        return rows;
    }

    static List<Row> reconcileRows(String step, JsonNode json, String file) {
        List<Row> rows = new ArrayList<>();
        Map<String, Double> rate = new LinkedHashMap<>();
        for (JsonNode t : json.path("timings")) {
            rate.put(t.path("round").asInt() + "/" + t.path("name").asText(), t.path("rowsPerSecond").asDouble());
        }
        for (JsonNode r : json.path("ratios")) {
            String name = r.path("name").asText();
            if (!name.startsWith("reconcile")) {
                continue;
            }
            int round = r.path("round").asInt();
            rows.add(new Row(step, name + " (round " + round + ")", String.format(Locale.ROOT, "%,.0f rows/s",
                    rate.getOrDefault(round + "/" + name, 0.0)), String.format(Locale.ROOT,
                    "hash-checksum scan of both tables %,.0f rows/s", rate.getOrDefault(round + "/hash scan of both (as planned)", 0.0)),
                    r.path("ratioToHashScan").asDouble(), file));
        }
        return rows;
    }

    static List<Row> indexRows(String step, JsonNode json, String file) {
        List<Row> rows = new ArrayList<>();
        for (JsonNode r : json.path("results")) {
            String onePass = String.format(Locale.ROOT, "one-pass primary key %.1f MB", r.path("onePassBytes").asLong() / 1e6);
            rows.add(new Row(step, r.path("mode").asText() + ": primary key after the backfill", String.format(Locale.ROOT,
                    "%.1f MB", r.path("backfillIndexBytes").asLong() / 1e6), onePass, r.path("backfillRatio").asDouble(), file));
            rows.add(new Row(step, r.path("mode").asText() + ": after the driver's index step", String.format(Locale.ROOT,
                    "%.1f MB", r.path("afterIndexStepBytes").asLong() / 1e6), onePass, r.path("afterIndexStepRatio").asDouble(),
                    file));
        }
        return rows;
    }

    static List<Row> planRows(String step, JsonNode json, String file) {
        List<Row> rows = new ArrayList<>();
        long target = json.path("chunkRows").asLong();
        for (JsonNode c : json.path("cases")) {
            rows.add(new Row(step, "largest chunk, table in " + c.path("layout").asText() + ", sample sized by "
                    + c.path("sampleSizedBy").asText(), String.format(Locale.ROOT, "%,d rows (min %,d, %d of %d chunks outside ½–2×)",
                    c.path("max").asLong(), c.path("min").asLong(), c.path("outsideTwiceTarget").asInt(), c.path("chunks").asInt()),
                    String.format(Locale.ROOT, "chunkRows %,d", target), target == 0 ? null : c.path("max").asDouble() / target, file));
        }
        return rows;
    }

    static List<Row> syncRows(String step, JsonNode json, String file) {
        List<Row> rows = new ArrayList<>();
        Map<String, Double> tps = new LinkedHashMap<>();
        for (JsonNode r : json.path("runs")) {
            JsonNode p = r.path("phase");
            String name = p.path("name").asText();
            tps.put(name, p.path("pgbench").path("tps").asDouble());
            if (name.startsWith("no replication")) {
                continue;
            }
            rows.add(new Row(step, name + ": pgbench tps", String.format(Locale.ROOT, "%,.0f tps, commit→applied p99 %s ms",
                    p.path("pgbench").path("tps").asDouble(), ms(p.path("probeP99Ms"))),
                    "pgbench without replication, same -R (or unthrottled)", r.path("tpsRatioToNoReplication").asDouble(), file));
        }
        Double ours = tps.get("shapeshift sync, unthrottled");
        Double theirs = tps.get("native logical replication, unthrottled");
        if (ours != null && theirs != null && theirs > 0) {
            rows.add(new Row(step, "shapeshift sync, unthrottled: pgbench tps (issue 18 goal 2)", String.format(Locale.ROOT,
                    "%,.0f tps", ours), String.format(Locale.ROOT, "native logical replication, unthrottled %,.0f tps", theirs),
                    ours / theirs, file));
        }
        return rows;
    }

    /**
     * {@code bench sync --backfill-during} (issue 18 goal 1): per origin-filter setting, sync p99 during
     * the in-place backfill against the same load without it, and the backfill against one bulk UPDATE.
     */
    static List<Row> backfillDuringRows(String step, JsonNode json, String file) {
        List<Row> rows = new ArrayList<>();
        double bulk = json.path("bulkUpdateSeconds").asDouble();
        for (JsonNode d : json.path("backfillDuring")) {
            String filter = d.path("originFilter").asBoolean() ? "origin filter on" : "origin filter off (echo mark)";
            JsonNode ratio = d.path("p99Ratio");
            rows.add(new Row(step, filter + ": sync p99 during the backfill (issue 18 goal 1)",
                    "p99 " + ms(d.path("probeP99DuringMs")) + " ms", "the same load without a backfill, p99 "
                    + ms(d.path("probeP99NoBackfillMs")) + " ms", ratio.isNumber() ? ratio.asDouble() : null, file));
            rows.add(new Row(step, filter + ": in-place backfill under the load", String.format(Locale.ROOT,
                    "%,.0f rows/s", d.path("rowsPerSecond").asDouble()), String.format(Locale.ROOT,
                    "one bulk UPDATE of the idle table, %.1f s", bulk), d.path("ratioToBulk").asDouble(), file));
        }
        return rows;
    }

    private static String ms(JsonNode v) {
        return v == null || v.isNull() || v.isMissingNode() ? "–" : String.format(Locale.ROOT, "%.0f", v.asDouble());
    }
}
