package dev.shapeshift.launcher;

import dev.shapeshift.launcher.BenchCommand.Results;
import dev.shapeshift.launcher.bench.SoakBench;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code shapeshift bench soak}, a subcommand of {@link BenchCommand}. */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = "A long run (not in CI): pgbench's TPC-B load at a steady rate while a migration of "
                + "pgbench_accounts runs from start to contract through the coordinator and the CLI, one role "
                + "(coordinator, cdc-bridge, worker) killed with SIGKILL every few minutes (seeded), memory, file "
                + "descriptors and slot retained WAL sampled; ends with independent checks. Writes "
                + "<date>-soak-<minutes>min.md, .html (plots) and .json.")
final class SoakBenchCommand implements Callable<Integer> {
    @Option(names = "--minutes", defaultValue = "60", description = "how long the load (and the kills) run. Default: ${DEFAULT-VALUE}")
    int minutes;

    @Option(names = "--seed", defaultValue = "1", description = "seeds the kill times and the role killed. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--scale", defaultValue = "2", description = "pgbench -i -s (100,000 accounts each). Default: ${DEFAULT-VALUE}")
    int scale;

    @Option(names = "--rate", defaultValue = "20", description = "pgbench -R, transactions per second. Default: ${DEFAULT-VALUE}")
    int rate;

    @Option(names = "--clients", defaultValue = "2", description = "pgbench -c. Default: ${DEFAULT-VALUE}")
    int clients;

    @Option(names = "--kill-every", defaultValue = "240",
            description = "mean seconds between kills (each gap uniform in 0.5..1.5 times this). Default: ${DEFAULT-VALUE}")
    int killEvery;

    @Option(names = "--backfill-rate", defaultValue = "0",
            description = "the spec's backfill.maxRowsPerSecond; 0 = the rows over a third of the run. Default: ${DEFAULT-VALUE}")
    int backfillRate;

    @Option(names = "--sample-every", defaultValue = "10", description = "seconds between samples. Default: ${DEFAULT-VALUE}")
    int sampleEvery;

    @Option(names = "--partitions", defaultValue = "4", description = "changes topic partitions. Default: ${DEFAULT-VALUE}")
    int partitions;

    @Option(names = "--heap", defaultValue = "256m", description = "-Xmx of every role JVM. Default: ${DEFAULT-VALUE}")
    String heap;

    @Option(names = "--pgbench", defaultValue = "/usr/bin/pgbench", description = "pgbench binary. Default: ${DEFAULT-VALUE}")
    String pgbench;

    @Option(names = "--label", defaultValue = "", description = "suffix of the result file names")
    String label;

    @Option(names = "--note", defaultValue = "", description = "a sentence for the report (e.g. what else ran on the machine)")
    String note;

    @Mixin
    Results results;

    @Override
    public Integer call() throws Exception {
        if (minutes < 1 || scale < 1 || rate < 1 || clients < 1 || killEvery < 10 || backfillRate < 0 || sampleEvery < 1
                || partitions < 1 || !heap.matches("[0-9]+[mMgG]")) {
            throw results.invalid("need --minutes, --scale, --rate, --clients, "
                    + "--sample-every, --partitions >= 1, --kill-every >= 10, --backfill-rate >= 0 and --heap like 256m");
        }
        String command = results.command("--minutes " + minutes + " --seed " + seed + " --scale " + scale + " --rate "
                + rate + " --clients " + clients + " --kill-every " + killEvery + " --backfill-rate " + backfillRate
                + " --sample-every " + sampleEvery + " --partitions " + partitions + " --heap " + heap
                + (label.isEmpty() ? "" : " --label " + label));
        Path md = SoakBench.run(new SoakBench.Options(minutes, seed, scale, rate, clients, killEvery, backfillRate,
                sampleEvery, partitions, heap, pgbench, results.out, label, note, command), System.out);
        return java.nio.file.Files.readString(md).contains("**Result: passed**") ? 0 : 1;
    }
}
