package dev.shapeshift.launcher.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench all}'s summary, from steps whose "benchmarks" write fixed JSON results in the
 * formats the real benchmarks write (nothing is timed, no database): every ratio with its
 * baseline, one row per measurement, the machine, date and command, and a failed step reported
 * as failed while the others still run.
 */
class AllBenchTest {
    @TempDir
    Path out;

    private static AllBench.Step fixed(String name, String file, String json, AllBench.Rows rows) {
        return new AllBench.Step(name, (dir, log) -> {
            Files.writeString(dir.resolve(file + ".json"), json);
            Path md = dir.resolve(file + ".md");
            Files.writeString(md, "# " + name + "\n");
            return md;
        }, rows);
    }

    private static final String BACKFILL = """
            {"machine": {"nproc": "2", "cpu": "Test CPU"},
             "baseline": {"name": "bulk INSERT … SELECT", "rowsPerSecond": 500000, "ratioToBulk": 1.0},
             "peers": [{"name": "pgroll-style IN (SELECT … LIMIT 1000)", "workers": 1, "rowsPerSecond": 100000,
                        "ratioToBulk": 0.2, "p99Ms": 20.4, "maxMs": 80.0},
                       {"name": "naive keyset loop LIMIT 10000", "workers": 1, "rowsPerSecond": 400000,
                        "ratioToBulk": 0.8, "p99Ms": 27.0, "maxMs": 34.0}],
             "shapeshift": [{"name": "shapeshift", "workers": 2, "rowsPerSecond": 350000, "ratioToBulk": 0.7,
                             "p99Ms": 250.0, "maxMs": 290.0}]}
            """;

    private static final String RECONCILE = """
            {"timings": [{"round": 1, "name": "hash scan of both (as planned)", "rowsPerSecond": 2000000},
                         {"round": 1, "name": "reconcile, rangeRows 50000", "rowsPerSecond": 1300000}],
             "ratios": [{"round": 1, "name": "hash scan of both (as planned)", "ratioToHashScan": 1.0},
                        {"round": 1, "name": "reconcile, rangeRows 50000", "ratioToHashScan": 0.65}]}
            """;

    @Test
    void theSummaryHasEveryRatioBesideItsBaselineAndAFailedStepSaysSo() throws Exception {
        AllBench.Options o = new AllBench.Options(1000, 2, 1, 1, "/usr/bin/pgbench", out, "shapeshift bench all --rows 1000");
        List<AllBench.Step> steps = List.of(
                fixed("backfill table", "b", BACKFILL, AllBench::backfillRows),
                new AllBench.Step("broken", (dir, log) -> {
                    throw new IllegalStateException("pgbench not found");
                }, AllBench::syncRows),
                fixed("reconcile", "r", RECONCILE, AllBench::reconcileRows));
        ByteArrayOutputStream console = new ByteArrayOutputStream();

        Path md = AllBench.run(o, steps, new PrintStream(console, true, StandardCharsets.UTF_8));

        String text = Files.readString(md);
        assertThat(md.getFileName().toString()).endsWith("-all-1000.md");
        assertThat(text).contains("- command: `shapeshift bench all --rows 1000`", "- date: ", "- cpu: Test CPU",
                "load average at start", "load average at end");
        assertThat(text).contains("| backfill table | pgroll-style IN (SELECT … LIMIT 1000) | 100,000 rows/s, p99 / max 20 / 80 ms "
                + "| bulk INSERT … SELECT 500,000 rows/s | 0.20 |");
        assertThat(text).contains("| backfill table | naive keyset loop LIMIT 10000 |").contains("| 0.80 |");
        assertThat(text).contains("| backfill table | shapeshift, 2 worker(s) | 350,000 rows/s, p99 / max 250 / 290 ms");
        assertThat(text).contains("| reconcile | reconcile, rangeRows 50000 (round 1) | 1,300,000 rows/s "
                + "| hash-checksum scan of both tables 2,000,000 rows/s | 0.65 |");
        assertThat(text).doesNotContain("hash scan of both (as planned) (round");
        assertThat(text).contains("| broken | **failed**: java.lang.IllegalStateException: pgbench not found |");

        JsonNode json = new ObjectMapper().readTree(md.resolveSibling(md.getFileName().toString().replace(".md", ".json")).toFile());
        assertThat(json.path("command").asText()).isEqualTo("shapeshift bench all --rows 1000");
        assertThat(json.path("machine").path("nproc").asText()).isEqualTo("2");
        JsonNode stepsJson = json.path("steps");
        assertThat(stepsJson).hasSize(3);
        assertThat(stepsJson.get(0).path("rows")).hasSize(3);
        assertThat(stepsJson.get(0).path("rows").get(2).path("ratio").asDouble()).isEqualTo(0.7);
        assertThat(stepsJson.get(0).path("rows").get(2).path("baseline").asText()).isEqualTo("bulk INSERT … SELECT 500,000 rows/s");
        assertThat(stepsJson.get(1).path("failed").asText()).contains("pgbench not found");
        assertThat(stepsJson.get(2).path("rows").get(0).path("ratio").asDouble()).isEqualTo(0.65);
        assertThat(console.toString(StandardCharsets.UTF_8)).contains("== bench all: reconcile").contains("summary: ");
    }

    @Test
    void theSyncStepComparesShapeshiftWithNativeReplicationOfTheSameRun() {
        String json = """
                {"runs": [
                  {"phase": {"name": "no replication, unthrottled", "pgbench": {"tps": 4000.0}}, "tpsRatioToNoReplication": 1.0},
                  {"phase": {"name": "shapeshift sync, unthrottled", "pgbench": {"tps": 2800.0}, "probeP99Ms": 112.4},
                   "tpsRatioToNoReplication": 0.7},
                  {"phase": {"name": "native logical replication, unthrottled", "pgbench": {"tps": 3500.0}, "probeP99Ms": 5.9},
                   "tpsRatioToNoReplication": 0.875}]}
                """;
        List<AllBench.Row> rows;
        try {
            rows = AllBench.syncRows("sync", new ObjectMapper().readTree(json), "f.md");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        assertThat(rows).extracting(AllBench.Row::measured).containsExactly("shapeshift sync, unthrottled: pgbench tps",
                "native logical replication, unthrottled: pgbench tps",
                "shapeshift sync, unthrottled: pgbench tps (issue 18 goal 2)");
        assertThat(rows.get(0).value()).isEqualTo("2,800 tps, commit→applied p99 112 ms");
        assertThat(rows.get(2).ratio()).isEqualTo(0.8);
        assertThat(rows.get(2).baseline()).isEqualTo("native logical replication, unthrottled 3,500 tps");
    }

    @Test
    void theBackfillDuringStepGivesGoalOneRatiosPerOriginFilterSetting() throws Exception {
        String json = """
                {"runs": [], "bulkUpdateSeconds": 9.99, "backfillDuring": [
                  {"originFilter": true, "rowsPerSecond": 46000, "ratioToBulk": 0.46, "probeP99NoBackfillMs": 191.0,
                   "probeP99DuringMs": 253.0, "p99Ratio": 1.33},
                  {"originFilter": false, "rowsPerSecond": 22000, "ratioToBulk": 0.22, "probeP99NoBackfillMs": 202.0,
                   "probeP99DuringMs": 1225.0, "p99Ratio": 6.06}]}
                """;
        List<AllBench.Row> rows = AllBench.backfillDuringRows("during", new ObjectMapper().readTree(json), "f.md");
        assertThat(rows).hasSize(4);
        assertThat(rows.get(0).measured()).isEqualTo("origin filter on: sync p99 during the backfill (issue 18 goal 1)");
        assertThat(rows.get(0).value()).isEqualTo("p99 253 ms");
        assertThat(rows.get(0).baseline()).isEqualTo("the same load without a backfill, p99 191 ms");
        assertThat(rows.get(0).ratio()).isEqualTo(1.33);
        assertThat(rows.get(1).baseline()).isEqualTo("one bulk UPDATE of the idle table, 10.0 s");
        assertThat(rows.get(1).ratio()).isEqualTo(0.46);
        assertThat(rows.get(2).measured()).startsWith("origin filter off (echo mark)");
        assertThat(rows.get(3).ratio()).isEqualTo(0.22);
    }
}
