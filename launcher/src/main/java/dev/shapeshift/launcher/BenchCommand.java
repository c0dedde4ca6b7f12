package dev.shapeshift.launcher;

import dev.shapeshift.launcher.bench.BackfillBench;
import dev.shapeshift.launcher.bench.BenchOptions;
import dev.shapeshift.spec.Mode;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code shapeshift bench}: measurements on the embedded stack (docs/performance.md). */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = BenchCommand.Backfill.class,
        description = "Benchmarks on an embedded PostgreSQL (fsync on) and Kafka; see docs/performance.md.")
public final class BenchCommand implements Runnable {

    /** Runs the command on its own (before it is registered in {@link Main}). */
    public static void main(String[] args) {
        CommandLine cmd = new CommandLine(new BenchCommand());
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        System.exit(cmd.execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    @Command(name = "backfill", mixinStandardHelpOptions = true,
            description = {"Bulk INSERT … SELECT / UPDATE against Shapeshift's backfill with 1, 2, 4 … workers,",
                    "each on a fresh copy of the table; writes <date>-backfill-<mode>-<rows>.md and .json."})
    static final class Backfill implements Callable<Integer> {
        @Option(names = "--rows", defaultValue = "1000000", description = "source rows. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--workers", defaultValue = "1,2,4", split = ",",
                description = "worker counts, one run each. Default: ${DEFAULT-VALUE}")
        List<Integer> workers;

        @Option(names = "--mode", defaultValue = "table", description = "table or in-place. Default: ${DEFAULT-VALUE}")
        String mode;

        @Option(names = "--chunk-rows", defaultValue = "10000", description = "backfill.chunkRows. Default: ${DEFAULT-VALUE}")
        int chunkRows;

        @Option(names = "--batch-rows", defaultValue = "1000", description = "backfill.batchRows (first sub-batch). Default: ${DEFAULT-VALUE}")
        int batchRows;

        @Option(names = "--partitions", defaultValue = "8", description = "chunks topic partitions. Default: ${DEFAULT-VALUE}")
        int partitions;

        @Option(names = "--shapes", description = "also time statement shapes over plain JDBC (lock, ON CONFLICT, commit)")
        boolean shapes;

        @Option(names = "--shape-connections", defaultValue = "1,2", split = ",",
                description = "connection counts for --shapes. Default: ${DEFAULT-VALUE}")
        List<Integer> shapeConnections;

        @Option(names = "--out", defaultValue = "bench/results", description = "result directory. Default: ${DEFAULT-VALUE}")
        Path out;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Mode m = switch (mode.toLowerCase(java.util.Locale.ROOT)) {
                case "table" -> Mode.TABLE;
                case "in-place", "in_place", "inplace" -> Mode.IN_PLACE;
                default -> throw new CommandLine.ParameterException(spec.commandLine(),
                        "--mode must be table or in-place, got " + mode);
            };
            int most = workers.stream().mapToInt(Integer::intValue).max().orElse(1);
            if (rows < 1000 || workers.stream().anyMatch(w -> w < 1) || partitions < most || chunkRows < 10) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "need --rows >= 1000, --workers >= 1, --partitions >= the largest worker count, --chunk-rows >= 10");
            }
            String command = "shapeshift bench backfill --rows " + rows + " --workers "
                    + String.join(",", workers.stream().map(String::valueOf).toList()) + " --mode " + mode
                    + " --chunk-rows " + chunkRows + " --batch-rows " + batchRows + " --partitions " + partitions
                    + (shapes ? " --shapes --shape-connections "
                    + String.join(",", shapeConnections.stream().map(String::valueOf).toList()) : "") + " --out " + out;
            BackfillBench.run(new BenchOptions(rows, workers, m, chunkRows, batchRows, partitions, shapes,
                    shapeConnections, out, command), System.out);
            return 0;
        }
    }
}
