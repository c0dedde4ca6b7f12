package dev.shapeshift.launcher.bench;

import static dev.shapeshift.launcher.bench.SyncBench.DB_CPU;
import static dev.shapeshift.launcher.bench.SyncBench.REST_CPUS;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.shapeshift.launcher.bench.SyncBench.BackfillDuring;
import dev.shapeshift.launcher.bench.SyncBench.BulkUnderLoad;
import dev.shapeshift.launcher.bench.SyncBench.Options;
import dev.shapeshift.launcher.bench.SyncBench.Phase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The result files of {@link SyncBench}: {@code <date>-sync-pgbench-s<scale>-<seconds>s….md} (the
 * table of runs, every ratio against the runs without replication of the same bench run, the
 * backfill-during table, pgbench's output) and the same figures as {@code .json}.
 */
final class SyncReport {
    private final Options o;
    private final List<Phase> phases;
    private final List<BackfillDuring> during;
    private final Double bulkSeconds;
    private final BulkUnderLoad bulkUnderLoad;

    SyncReport(Options o, List<Phase> phases, List<BackfillDuring> during, Double bulkSeconds, BulkUnderLoad bulkUnderLoad) {
        this.bulkUnderLoad = bulkUnderLoad;
        this.o = o;
        this.phases = phases;
        this.during = during;
        this.bulkSeconds = bulkSeconds;
    }

    private double baseline(int rate) {
        return phases.stream().filter(p -> p.replication().equals("none") && p.rate() == rate)
                .mapToDouble(p -> p.pgbench().tps()).average().orElse(Double.NaN);
    }

    private double baselineCpuPerTxn(int rate) {
        return phases.stream().filter(p -> p.replication().equals("none") && p.rate() == rate)
                .mapToDouble(SyncReport::cpuPerTxnMs).average().orElse(Double.NaN);
    }

    private static double cpuPerTxnMs(Phase p) {
        return (p.sourceCpuSeconds() + p.subscriberCpuSeconds() + p.jvmCpuSeconds()) * 1000
                / Math.max(1, p.pgbench().transactions());
    }

    Path write(Map<String, String> machine, OffsetDateTime started, int rate) throws IOException {
        Files.createDirectories(o.out());
        String base = LocalDate.now() + "-sync-pgbench-s" + o.scale() + "-" + o.seconds() + "s"
                + (o.inPlace() ? "-in-place" : "") + (o.unguarded() ? "-barrier-compare" : "")
                + (o.backfillDuring() ? "-backfill-during" : "");
        StringBuilder b = new StringBuilder();
        b.append("# Sync benchmark: Shapeshift sync vs PostgreSQL logical replication under pgbench\n\n");
        b.append("- date: ").append(started).append("\n");
        b.append("- command: `").append(o.command()).append("`\n");
        b.append("- pgbench: `").append(new Pgbench(o.pgbench(), "127.0.0.1", 0, "postgres", "", "<db>")
                .commandLine(o.clients(), o.threads(), o.seconds(), rate)).append("` (built-in TPC-B-like script), scale ")
                .append(o.scale()).append(" (").append(String.format(Locale.ROOT, "%,d", o.scale() * 100_000L))
                .append(" accounts)\n");
        if (o.roleJvms()) {
            b.append("- roles: the cdc-bridge and the worker (sync only) each in its own JVM (`-Xmx256m`), started as "
                    + "`shapeshift cdc-bridge` / `shapeshift worker` are; the Kafka broker, the probe and the coordinator "
                    + "(stopped before the runs) in the bench's JVM. The JVM CPU column counts the bench's JVM only.\n");
        }
        if (o.pin()) {
            b.append("- CPUs pinned with taskset: the source server (postmaster and every backend) and pgbench on CPU ")
                    .append(DB_CPU).append("; the bench's JVM and everything it starts after the load of the table (role JVMs, "
                    + "the native subscriber's server) on CPU ").append(REST_CPUS).append(", so the database has the same "
                    + "core in every run\n");
        }
        if (o.reverse()) {
            b.append("- reverse runs (`--reverse`): the spec has a write switch (`writes.reverse: abalance: "
                    + "(abalance_cents / 100)::integer`); after the forward runs the bench sets the phase to "
                    + "writes-switched and the sync direction to reverse itself (the driver is stopped, as for the "
                    + "forward runs), and pgbench runs the same TPC-B-like transaction writing `abalance_cents` "
                    + "instead of `abalance` (`-f`); the probe writes `abalance_cents` and is read from `abalance`\n");
        }
        b.append("- probe: one row (aid 0) updated every ").append(o.probeMs()).append(" ms in every run (same load); "
                + "replica polled every ").append(o.pollMs()).append(" ms\n");
        machine.forEach((k, v) -> b.append("- ").append(k).append(": ").append(v).append("\n"));
        b.append("\n**Noisy**: one shared 2-core machine loaded by other builds; every ratio is against the runs "
                + "without replication of this same run (mean of the first and the last, shown separately). "
                + "CPU per transaction = source server + subscriber server + this JVM (Kafka broker, bridge, worker, "
                + "probe; pgbench itself not counted).\n\n");
        b.append("| run | tps | tps ÷ same-rate no-replication mean | failed | pgbench latency avg ms | schedule lag avg ms "
                + "| probe lag p50 ms | probe lag p99 ms | probe max ms | probes (not arrived) | timer p50 ms | timer p99 ms "
                + "| timer changes | source CPU s | subscriber CPU s | JVM CPU s | CPU ms/txn | CPU/txn ÷ no-repl | load avg start → end "
                + "| rows wrong after catch-up |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Phase p : phases) {
            Pgbench.Result r = p.pgbench();
            b.append(String.format(Locale.ROOT, "| %s | %.1f | %.3f | %d | %s | %s | %s | %s | %s | %d (%d) | %s | %s | %s "
                            + "| %.1f | %.1f | %.1f | %.2f | %.2f | %s → %s | %s |%n",
                    p.name(), r.tps(), r.tps() / baseline(p.rate()), r.failed(), fmt1(r.latencyAvgMs()),
                    fmt1(r.scheduleLagAvgMs()), SyncRuns.fmt(p.probeP50Ms()), SyncRuns.fmt(p.probeP99Ms()), SyncRuns.fmt(p.probeMaxMs()), p.probes(),
                    p.probesNotArrived(), SyncRuns.fmt(p.timerP50Ms()), SyncRuns.fmt(p.timerP99Ms()), p.timerCount() == null ? "–" : p.timerCount(),
                    p.sourceCpuSeconds(), p.subscriberCpuSeconds(), p.jvmCpuSeconds(), cpuPerTxnMs(p),
                    cpuPerTxnMs(p) / baselineCpuPerTxn(p.rate()), Machine.load3(p.loadStart()), Machine.load3(p.loadEnd()),
                    p.wrongRows() == null ? "–" : p.wrongRows()));
        }
        if (!during.isEmpty()) {
            b.append("\n## Sync during an in-place backfill (`--backfill-during`, issue 18 goal 1)\n\n");
            b.append(String.format(Locale.ROOT, "Two baselines, same run: one bulk `UPDATE pgbench_accounts SET abalance_cents = "
                    + "abalance::bigint * 100` of the **idle** table: %.2f s; and the same statement on the same table (new column "
                    + "NULL again, table rewritten) **under the same load** as the backfills (pgbench at -R %d from 3 s before it "
                    + "to after it, the sync running, origin filter on): %s. Each backfill: the migration's own chunk "
                    + "plan (the coordinator's), every chunk pending again, two product workers (`Worker`, sync and backfill), "
                    + "the new column NULL in every row and the table rewritten before it; pgbench at -R %d from 3 s before "
                    + "the backfill to after it. Probe lag during = probes written from the backfill's start to its end "
                    + "(and until the sync caught up); without = the same configuration's run before it, no backfill. "
                    + "pgbench figures come from its per-transaction log (`-l`): tps = transactions that ended inside the "
                    + "window ÷ its length; latency (from each transaction's scheduled start, so waiting behind a row lock "
                    + "counts) over the transactions scheduled inside it; before = the 3 s of load before the window.%n%n",
                    bulkSeconds, rate, bulkUnderLoad == null ? "not run" : String.format(Locale.ROOT, "%.2f s (%d attempt(s))",
                            bulkUnderLoad.seconds(), bulkUnderLoad.attempts()), rate));
            b.append("| origin filter | stream origin=none | rows | backfill s | rows/s | ÷ bulk UPDATE idle | ÷ bulk UPDATE "
                    + "under load | probe p99 no backfill ms | probe p50 / p99 / max during ms | p99 ratio | probes "
                    + "| echo events decoded | peak slot lag MB | throttle reasons | rows wrong |\n");
            b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (BackfillDuring d : during) {
                b.append(String.format(Locale.ROOT, "| %s | %d | %,d | %.1f | %,.0f | **%.2f** | **%s** | %s | %s / %s / %s | **%.2f** "
                                + "| %d | %,.0f | %.1f | %s | %s |%n", d.originFilter() ? "on" : "off", d.originNone(), d.rows(),
                        d.seconds(), d.rowsPerSecond(), d.ratioToBulk(), d.ratioToBulkUnderLoad() == null ? "–"
                                : String.format(Locale.ROOT, "%.2f", d.ratioToBulkUnderLoad()),
                        SyncRuns.fmt(d.probeP99NoBackfillMs()), SyncRuns.fmt(d.probeP50DuringMs()),
                        SyncRuns.fmt(d.probeP99DuringMs()), SyncRuns.fmt(d.probeMaxDuringMs()), d.p99Ratio() == null ? Double.NaN : d.p99Ratio(),
                        d.probesDuring(), d.suppressedEvents(), d.peakSlotLagBytes() / 1048576.0, d.throttleReasons(),
                        d.wrongRows() == null ? "–" : d.wrongRows()));
            }
            b.append("\n### What the application saw (pgbench, per-transaction log)\n\n");
            b.append("| operation | s | pgbench tps before → during | latency p50 / p99 / max during ms | latency p99 before ms "
                    + "| failed during | probe p99 during ms | echo events decoded |\n");
            b.append("|---|---|---|---|---|---|---|---|\n");
            if (bulkUnderLoad != null) {
                b.append(appRow("bulk `UPDATE` (one statement), origin filter on", bulkUnderLoad.seconds(), bulkUnderLoad.appBefore(),
                        bulkUnderLoad.appDuring(), bulkUnderLoad.probeP99DuringMs(), bulkUnderLoad.echoEventsDecoded()));
            }
            for (BackfillDuring d : during) {
                b.append(appRow("Shapeshift backfill, origin filter " + (d.originFilter() ? "on" : "off"), d.seconds(),
                        d.appBefore(), d.appDuring(), d.probeP99DuringMs(), d.suppressedEvents()));
            }
        }
        b.append("\n## pgbench output\n");
        for (Phase p : phases) {
            b.append("\n### ").append(p.name()).append("\n\n```\n").append(p.pgbench().output().strip()).append("\n```\n");
        }
        Path md = o.out().resolve(base + ".md");
        Files.writeString(md, b.toString());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", started.toString());
        json.put("command", o.command());
        json.put("options", o);
        json.put("machine", machine);
        json.put("rate", rate);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Phase p : phases) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("phase", p);
            m.put("tpsRatioToNoReplication", p.pgbench().tps() / baseline(p.rate()));
            m.put("cpuMsPerTxn", cpuPerTxnMs(p));
            m.put("cpuPerTxnRatioToNoReplication", cpuPerTxnMs(p) / baselineCpuPerTxn(p.rate()));
            list.add(m);
        }
        json.put("runs", list);
        if (!during.isEmpty()) {
            json.put("bulkUpdateSeconds", bulkSeconds);
            json.put("bulkUpdateUnderLoad", bulkUnderLoad);
            json.put("backfillDuring", during);
        }
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        mapper.addMixIn(Pgbench.Result.class, NoOutput.class);
        Files.writeString(o.out().resolve(base + ".json"), mapper.writeValueAsString(json) + "\n");
        return md;
    }

    /** pgbench's text output goes to the markdown only. */
    @com.fasterxml.jackson.annotation.JsonIgnoreProperties({"output"})
    private abstract static class NoOutput {
    }

    private static String appRow(String what, double seconds, PgbenchLog.Window before, PgbenchLog.Window during,
                                 Double probeP99, double echoEvents) {
        return String.format(Locale.ROOT, "| %s | %.1f | %.0f → **%.0f** | %s / **%s** / %s | %s | %d | %s | %,.0f |%n", what,
                seconds, before.tps(), during.tps(), fmt1(during.latencyP50Ms()), fmt1(during.latencyP99Ms()),
                fmt1(during.latencyMaxMs()), fmt1(before.latencyP99Ms()), during.failed(), SyncRuns.fmt(probeP99), echoEvents);
    }

    private static String fmt1(Double d) {
        return d == null ? "–" : String.format(Locale.ROOT, "%.1f", d);
    }
}
