package dev.shapeshift.launcher;

import dev.shapeshift.launcher.BenchCommand.Results;
import dev.shapeshift.launcher.bench.AppCostBench;
import dev.shapeshift.launcher.bench.BackfillBench;
import dev.shapeshift.launcher.bench.BenchOptions;
import dev.shapeshift.spec.Mode;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code shapeshift bench backfill}, a subcommand of {@link BenchCommand}. */
@Command(name = "backfill", mixinStandardHelpOptions = true,
        description = "Bulk INSERT … SELECT / UPDATE against two hand-written loops (pgroll-style, naive keyset) and "
                + "Shapeshift's backfill with 1, 2, 4 … workers, each on a fresh copy of the table; writes "
                + "<date>-backfill-<mode>-<rows>.md and .json.")
final class BackfillBenchCommand implements Callable<Integer> {
    @Option(names = "--rows", defaultValue = "1000000", description = "source rows. Default: ${DEFAULT-VALUE}")
    long rows;

    @Option(names = "--workers", defaultValue = "1,2,4", split = ",",
            description = "worker counts, one run each. Default: ${DEFAULT-VALUE}")
    List<Integer> workers;

    @Option(names = "--mode", defaultValue = "table", description = "table or in-place. Default: ${DEFAULT-VALUE}")
    String mode;

    @Option(names = "--chunk-rows", defaultValue = "50000", description = "backfill.chunkRows. Default: ${DEFAULT-VALUE}")
    int chunkRows;

    @Option(names = "--batch-rows", defaultValue = "1000", description = "backfill.batchRows (first sub-batch). Default: ${DEFAULT-VALUE}")
    int batchRows;

    @Option(names = "--partitions", defaultValue = "8", description = "chunks topic partitions. Default: ${DEFAULT-VALUE}")
    int partitions;

    @Option(names = "--max-heap-growth", defaultValue = "1.2", description = "backfill.maxHeapGrowth (in place: VACUUM every (g - 1) / 2 of the rows). Default: ${DEFAULT-VALUE}")
    double maxHeapGrowth;

    @Option(names = "--shapes", description = "also time statement shapes over plain JDBC (lock, ON CONFLICT, commit)")
    boolean shapes;

    @Option(names = "--shape-connections", defaultValue = "1,2", split = ",",
            description = "connection counts for --shapes. Default: ${DEFAULT-VALUE}")
    List<Integer> shapeConnections;

    @Option(names = "--worker-jvms", description = "run each worker as a child JVM (`shapeshift worker --no-sync`, -Xmx --worker-heap) and record its peak RSS")
    boolean workerJvms;

    @Option(names = "--worker-heap", defaultValue = "256m", description = "-Xmx of the worker JVMs. Default: ${DEFAULT-VALUE}")
    String workerHeap;

    @Option(names = "--label", defaultValue = "", description = "suffix of the result file names (-<label>). Default: none")
    String label;

    @Option(names = "--no-peers", description = "leave out the peer loops timed beside the baseline (pgroll-style "
            + "IN (SELECT … LIMIT 1000), naive keyset loop)")
    boolean noPeers;

    @Option(names = "--naive-batch-rows", defaultValue = "10000",
            description = "rows per transaction of the naive keyset loop. Default: ${DEFAULT-VALUE}")
    int naiveBatchRows;

    @Option(names = "--app-load-scale", defaultValue = "0",
            description = "measure the backfill's cost to an application instead: pgbench at this scale runs all "
                    + "along (as its own role) and its tps is measured without Shapeshift, during an uncapped "
                    + "backfill and during one per --app-latency-caps (first --workers count). 0 = off. Default: ${DEFAULT-VALUE}")
    int appLoadScale;

    @Option(names = "--app-clients", defaultValue = "4", description = "with --app-load-scale: pgbench -c. Default: ${DEFAULT-VALUE}")
    int appClients;

    @Option(names = "--app-threads", defaultValue = "2", description = "with --app-load-scale: pgbench -j. Default: ${DEFAULT-VALUE}")
    int appThreads;

    @Option(names = "--app-latency-caps", defaultValue = "0,20", split = ",",
            description = "with --app-load-scale: one backfill per value of max-app-latency-pct, 0 = uncapped. Default: ${DEFAULT-VALUE}")
    List<Integer> appLatencyCaps;

    @Option(names = "--app-window", defaultValue = "30",
            description = "with --app-load-scale: seconds of each window without Shapeshift (one before, one after). Default: ${DEFAULT-VALUE}")
    int appWindow;

    @Option(names = "--pgbench", defaultValue = "/usr/bin/pgbench", description = "with --app-load-scale: pgbench binary. Default: ${DEFAULT-VALUE}")
    String pgbench;

    @Mixin
    Results results;

    @Override
    public Integer call() throws Exception {
        Mode m = switch (mode.toLowerCase(java.util.Locale.ROOT)) {
            case "table" -> Mode.TABLE;
            case "in-place", "in_place", "inplace" -> Mode.IN_PLACE;
            default -> throw results.invalid(
                    "--mode must be table or in-place, got " + mode);
        };
        int most = workers.stream().mapToInt(Integer::intValue).max().orElse(1);
        if (rows < 1000 || workers.stream().anyMatch(w -> w < 1) || partitions < most || chunkRows < 10
                || !(maxHeapGrowth > 1.0) || naiveBatchRows < 1) {
            throw results.invalid("need --rows >= 1000, --workers >= 1, "
                    + "--partitions >= the largest worker count, --chunk-rows >= 10, --max-heap-growth > 1, "
                    + "--naive-batch-rows >= 1");
        }
        if (!workerHeap.matches("[0-9]+[kmgKMG]") || !label.matches("[A-Za-z0-9._-]*")) {
            throw results.invalid(
                    "--worker-heap must look like 256m, --label only letters, digits, '.', '_' and '-'");
        }
        String command = results.command("--rows " + rows + " --workers "
                + Results.csv(workers) + " --mode " + mode
                + " --chunk-rows " + chunkRows + " --batch-rows " + batchRows + " --partitions " + partitions
                + " --max-heap-growth " + maxHeapGrowth + (shapes ? " --shapes --shape-connections "
                + Results.csv(shapeConnections) : "")
                + (workerJvms ? " --worker-jvms --worker-heap " + workerHeap : "")
                + (label.isEmpty() ? "" : " --label " + label)
                + (noPeers ? " --no-peers" : " --naive-batch-rows " + naiveBatchRows)
                + (appLoadScale > 0 ? " --app-load-scale " + appLoadScale + " --app-clients " + appClients
                + " --app-threads " + appThreads + " --app-latency-caps "
                + Results.csv(appLatencyCaps) + " --app-window " + appWindow
                + " --pgbench " + pgbench : ""));
        BenchOptions options = new BenchOptions(rows, workers, m, chunkRows, batchRows, partitions, maxHeapGrowth, shapes,
                shapeConnections, workerJvms, workerHeap, results.out, label, command, !noPeers, naiveBatchRows);
        if (appLoadScale > 0) {
            if (appClients < 1 || appThreads < 1 || appThreads > appClients || appWindow < 5
                    || appLatencyCaps.stream().anyMatch(c -> c < 0)) {
                throw results.invalid("with --app-load-scale: need --app-clients >= 1, 1 <= --app-threads <= "
                        + "--app-clients, --app-window >= 5, --app-latency-caps >= 0 (0 = uncapped)");
            }
            AppCostBench.run(options, new AppCostBench.AppLoad(appLoadScale, appClients, appThreads, appLatencyCaps,
                    appWindow, pgbench), System.out);
            return 0;
        }
        BackfillBench.run(options, System.out);
        return 0;
    }
}
