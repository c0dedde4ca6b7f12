package dev.shapeshift.launcher;

import dev.shapeshift.launcher.bench.AllBench;
import dev.shapeshift.launcher.bench.DdlBench;
import dev.shapeshift.launcher.bench.IndexBench;
import dev.shapeshift.launcher.bench.PlanBench;
import dev.shapeshift.launcher.bench.ReadCounterBench;
import dev.shapeshift.launcher.bench.ReconcileBench;
import dev.shapeshift.launcher.bench.SinkBench;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shapeshift bench}: measurements on the embedded stack (docs/performance.md).
 *
 * <p>Why one class of ~320 lines: it is the table of the smaller bench subcommands, each a nested
 * {@link Case} of its options (names, defaults and descriptions are the {@code --help} users read),
 * its {@code problem()} check and one call into its benchmark class; the measuring code lives in
 * {@code launcher.bench}. The larger subcommands (backfill, sync, soak) have classes of their own.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BackfillBenchCommand.class, SyncBenchCommand.class, BenchCommand.Reconcile.class, BenchCommand.Index.class,
        BenchCommand.Ddl.class, BenchCommand.Plan.class, BenchCommand.Sink.class,
        BenchCommand.ReadCounterCase.class, SoakBenchCommand.class, BenchCommand.All.class},
        description = "Benchmarks on an embedded PostgreSQL (fsync on) and Kafka; see docs/performance.md.")
public final class BenchCommand implements ExtraCommand, Runnable {

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

    /**
     * What every {@code bench} subcommand shares: the result directory, its usage errors (exit 2)
     * and the command line its report records.
     */
    static final class Results {
        @Option(names = "--out", defaultValue = "bench/results", description = "result directory. Default: ${DEFAULT-VALUE}")
        Path out;

        @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
        CommandLine.Model.CommandSpec spec;

        /** A usage error of the subcommand: picocli prints it with the subcommand's usage and exits 2. */
        CommandLine.ParameterException invalid(String message) {
            return new CommandLine.ParameterException(spec.commandLine(), message);
        }

        /** {@code shapeshift bench <subcommand> <options> --out <dir>}, as the report records it. */
        String command(String options) {
            return "shapeshift bench " + spec.name() + " " + options + " --out " + out;
        }

        /**
         * The command line of a subcommand whose report records every option of its own as
         * {@code --name value}, in the order the class declares them (a list as {@link #csv}); the
         * help options, the inherited ones and {@code --out} (last, as in {@link #command(String)})
         * are left out.
         */
        String command() {
            StringBuilder options = new StringBuilder();
            for (CommandLine.Model.OptionSpec option : spec.options()) {
                if (option.usageHelp() || option.versionHelp() || option.inherited() || option.longestName().equals("--out")) {
                    continue;
                }
                Object value = option.getValue();
                options.append(options.isEmpty() ? "" : " ").append(option.longestName()).append(' ')
                        .append(value instanceof List<?> list ? csv(list) : value);
            }
            return command(options.toString());
        }

        /** A list option as it is typed: {@code 1,2,4}. */
        static String csv(List<?> values) {
            return String.join(",", values.stream().map(String::valueOf).toList());
        }
    }

    /**
     * A {@code bench} subcommand that records every option in its report ({@link Results#command()}):
     * its options are checked first (a usage error, exit 2), then it measures.
     */
    abstract static class Case implements Callable<Integer> {
        @Mixin
        Results results;

        /** Null when the options can be measured, else the usage error. */
        abstract String problem();

        /** Runs the benchmark into {@code out}; its report records {@code command}. Returns the exit code. */
        abstract int measure(Path out, String command) throws Exception;

        @Override
        public final Integer call() throws Exception {
            String problem = problem();
            if (problem != null) {
                throw results.invalid(problem);
            }
            return measure(results.out, results.command());
        }
    }

    @Command(name = "reconcile", mixinStandardHelpOptions = true,
            description = "A full reconcile pass against count(*) and a hash-checksum scan of both tables, N identical "
                    + "rows; writes <date>-reconcile-<rows>.md and .json.")
    static final class Reconcile extends Case {
        @Option(names = "--rows", defaultValue = "1000000", description = "rows in source and target. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--range-rows", defaultValue = "10000,50000", split = ",",
                description = "reconcile.rangeRows, one pass each per round. Default: ${DEFAULT-VALUE}")
        List<Integer> rangeRows;

        @Option(names = "--parallelism", defaultValue = "1,2,4", split = ",",
                description = "reconcile.parallelism (ranges compared at once), one pass each per round and range size. "
                        + "Default: ${DEFAULT-VALUE}")
        List<Integer> parallelism;

        @Option(names = "--rounds", defaultValue = "2", description = "rounds of every measurement. Default: ${DEFAULT-VALUE}")
        int rounds;

        @Override
        String problem() {
            if (rows < 1000 || rounds < 1 || rangeRows.stream().anyMatch(r -> r < 1)) {
                return "need --rows >= 1000, --rounds >= 1, --range-rows >= 1";
            }
            if (parallelism.stream().anyMatch(k -> k < 1 || k > dev.shapeshift.spec.Reconcile.MAX_PARALLELISM)) {
                return "--parallelism: each value must be between 1 and "
                        + dev.shapeshift.spec.Reconcile.MAX_PARALLELISM + " (reconcile.parallelism), got " + parallelism;
            }
            return null;
        }

        @Override
        int measure(Path out, String command) throws Exception {
            ReconcileBench.run(new ReconcileBench.Options(rows, rangeRows, parallelism, rounds, out, command), System.out);
            return 0;
        }
    }

    @Command(name = "index", mixinStandardHelpOptions = true,
            description = "The written table's index size after a backfill against a one-pass build of the same rows, "
                    + "table mode and in place, before and after the driver's index step (REINDEX INDEX CONCURRENTLY "
                    + "above the threshold); writes <date>-index-<rows>.md and .json.")
    static final class Index extends Case {
        @Option(names = "--rows", defaultValue = "1000000", description = "source rows. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--workers", defaultValue = "2", description = "backfill workers. Default: ${DEFAULT-VALUE}")
        int workers;

        @Option(names = "--chunk-rows", defaultValue = "50000", description = "backfill.chunkRows. Default: ${DEFAULT-VALUE}")
        int chunkRows;

        @Option(names = "--partitions", defaultValue = "8", description = "chunks topic partitions. Default: ${DEFAULT-VALUE}")
        int partitions;

        @Option(names = "--reindex-above-pct", defaultValue = "115",
                description = "the index step's threshold, % of the one-pass size (the knob reindex-above-pct). Default: ${DEFAULT-VALUE}")
        int reindexAbovePct;

        @Override
        String problem() {
            return rows < 1000 || workers < 1 || partitions < workers || chunkRows < 10 || reindexAbovePct < 0
                    ? "need --rows >= 1000, --workers >= 1, --partitions >= --workers, --chunk-rows >= 10, "
                            + "--reindex-above-pct >= 0"
                    : null;
        }

        @Override
        int measure(Path out, String command) throws Exception {
            IndexBench.run(new IndexBench.Options(rows, workers, chunkRows, partitions, reindexAbovePct / 100.0, out,
                    command), System.out);
            return 0;
        }
    }

    @Command(name = "ddl", mixinStandardHelpOptions = true,
            description = "The application's longest statement wait while NOT NULL and a unique index are added to N rows: "
                    + "the naive statements against Shapeshift's staged enforcement, same run; writes <date>-ddl-<rows>.md "
                    + "and .json.")
    static final class Ddl extends Case {
        @Option(names = "--rows", defaultValue = "1000000", description = "rows in the table. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--clients", defaultValue = "4", description = "application sessions updating rows. Default: ${DEFAULT-VALUE}")
        int clients;

        @Option(names = "--rounds", defaultValue = "2", description = "rounds of every case. Default: ${DEFAULT-VALUE}")
        int rounds;

        @Override
        String problem() {
            return rows < 1000 || clients < 1 || rounds < 1 ? "need --rows >= 1000, --clients >= 1, --rounds >= 1" : null;
        }

        @Override
        int measure(Path out, String command) throws Exception {
            DdlBench.run(new DdlBench.Options(rows, clients, rounds, out, command), System.out);
            return 0;
        }
    }

    @Command(name = "plan", mixinStandardHelpOptions = true,
            description = "Chunk sizes of the chunk planner on a table stored in key order and one in random order, the "
                    + "sample sized by pages (the planner's) vs by rows (before); writes <date>-plan-<rows>.md and .json.")
    static final class Plan extends Case {
        @Option(names = "--rows", defaultValue = "5000000", description = "rows in each table. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--chunk-rows", defaultValue = "50000", description = "backfill.chunkRows. Default: ${DEFAULT-VALUE}")
        int chunkRows;

        @Override
        String problem() {
            return rows < 10_000 || chunkRows < 1 ? "need --rows >= 10000 and --chunk-rows >= 1" : null;
        }

        @Override
        int measure(Path out, String command) throws Exception {
            PlanBench.run(new PlanBench.Options(rows, chunkRows, out, command), System.out);
            return 0;
        }
    }

    @Command(name = "sink", mixinStandardHelpOptions = true,
            description = "The translation sink seeding the example translation service (in this JVM, its own database): "
                    + "one call per row against one batch call, N rows, same run; writes <date>-sink-translation-<rows>.md "
                    + "and .json.")
    static final class Sink extends Case {
        @Option(names = "--rows", defaultValue = "10000", description = "rows seeded per run. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--rounds", defaultValue = "2", description = "rounds of both modes. Default: ${DEFAULT-VALUE}")
        int rounds;

        @Override
        String problem() {
            return rows < 1000 || rounds < 1 ? "need --rows >= 1000, --rounds >= 1" : null;
        }

        @Override
        int measure(Path out, String command) throws Exception {
            SinkBench.run(new SinkBench.Options(rows, rounds, out, command), System.out);
            return 0;
        }
    }

    @Command(name = "read-counter", mixinStandardHelpOptions = true,
            description = "What the read counter (table mode, after the write switch) costs a read of the old table: the "
                    + "same reads with and without it, same run; writes <date>-read-counter-<rows>.md and .json.")
    static final class ReadCounterCase extends Case {
        @Option(names = "--rows", defaultValue = "100000", description = "rows in the table. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--clients", defaultValue = "1,4", split = ",", description = "reading sessions, one case each. Default: ${DEFAULT-VALUE}")
        List<Integer> clients;

        @Option(names = "--seconds", defaultValue = "5", description = "seconds per case. Default: ${DEFAULT-VALUE}")
        int seconds;

        @Option(names = "--rounds", defaultValue = "3", description = "rounds of every case. Default: ${DEFAULT-VALUE}")
        int rounds;

        @Override
        String problem() {
            return rows < 1000 || clients.isEmpty() || clients.stream().anyMatch(c -> c < 1) || seconds < 1 || rounds < 1
                    ? "need --rows >= 1000, --clients >= 1 each, --seconds >= 1, --rounds >= 1"
                    : null;
        }

        @Override
        int measure(Path out, String command) throws Exception {
            ReadCounterBench.run(new ReadCounterBench.Options(rows, clients, seconds, rounds, out, command), System.out);
            return 0;
        }
    }

    @Command(name = "all", mixinStandardHelpOptions = true,
            description = "Every benchmark of issue 18 in one go at small defaults (about 15 minutes on 2 cores): backfill "
                    + "table and in place (with the bulk baseline and the peer loops), reconcile, index, plan, sync (short "
                    + "pgbench); each step's files in <out>/<date>-all-<rows>/, and one summary of every ratio and its "
                    + "baseline in <out>/<date>-all-<rows>.md and .json.")
    static final class All extends Case {
        @Option(names = "--rows", defaultValue = "1000000", description = "rows of the backfill, reconcile, index and plan steps. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--workers", defaultValue = "2", description = "backfill workers. Default: ${DEFAULT-VALUE}")
        int workers;

        @Option(names = "--sync-scale", defaultValue = "10", description = "pgbench -i -s of the sync step (100,000 accounts each). Default: ${DEFAULT-VALUE}")
        int syncScale;

        @Option(names = "--sync-duration", defaultValue = "20", description = "seconds per pgbench run of the sync step. Default: ${DEFAULT-VALUE}")
        int syncDuration;

        @Option(names = "--pgbench", defaultValue = "/usr/bin/pgbench", description = "pgbench binary. Default: ${DEFAULT-VALUE}")
        String pgbench;

        @Override
        String problem() {
            return rows < 10_000 || workers < 1 || workers > 8 || syncScale < 1 || syncDuration < 1
                    ? "need --rows >= 10000, --workers 1..8, --sync-scale >= 1 and --sync-duration >= 1"
                    : null;
        }

        @Override
        int measure(Path out, String command) throws Exception {
            AllBench.Options o = new AllBench.Options(rows, workers, syncScale, syncDuration, pgbench, out, command);
            Path md = AllBench.run(o, AllBench.steps(o), System.out);
            return java.nio.file.Files.readString(md).contains("**failed**") ? 1 : 0;
        }
    }
}
