package dev.shapeshift.launcher;

import dev.shapeshift.launcher.bench.AllBench;
import dev.shapeshift.launcher.bench.BackfillBench;
import dev.shapeshift.launcher.bench.AppCostBench;
import dev.shapeshift.launcher.bench.BenchOptions;
import dev.shapeshift.launcher.bench.DdlBench;
import dev.shapeshift.launcher.bench.IndexBench;
import dev.shapeshift.launcher.bench.PlanBench;
import dev.shapeshift.launcher.bench.ReadCounterBench;
import dev.shapeshift.launcher.bench.ReconcileBench;
import dev.shapeshift.launcher.bench.SoakBench;
import dev.shapeshift.launcher.bench.SyncBench;
import dev.shapeshift.spec.Mode;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code shapeshift bench}: measurements on the embedded stack (docs/performance.md). */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchCommand.Backfill.class, BenchCommand.Sync.class, BenchCommand.Reconcile.class, BenchCommand.Index.class,
        BenchCommand.Ddl.class, BenchCommand.Plan.class, BenchCommand.Sink.class,
        BenchCommand.ReadCounterCase.class, BenchCommand.Soak.class, BenchCommand.All.class},
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
    }

    @Command(name = "backfill", mixinStandardHelpOptions = true,
            description = "Bulk INSERT … SELECT / UPDATE against two hand-written loops (pgroll-style, naive keyset) and "
                    + "Shapeshift's backfill with 1, 2, 4 … workers, each on a fresh copy of the table; writes "
                    + "<date>-backfill-<mode>-<rows>.md and .json.")
    static final class Backfill implements Callable<Integer> {
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

        @Option(names = "--worker-jvms", description = "run each worker as a child JVM (BackfillWorkerMain, -Xmx --worker-heap) and record its peak RSS")
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
                    + String.join(",", workers.stream().map(String::valueOf).toList()) + " --mode " + mode
                    + " --chunk-rows " + chunkRows + " --batch-rows " + batchRows + " --partitions " + partitions
                    + " --max-heap-growth " + maxHeapGrowth + (shapes ? " --shapes --shape-connections "
                    + String.join(",", shapeConnections.stream().map(String::valueOf).toList()) : "")
                    + (workerJvms ? " --worker-jvms --worker-heap " + workerHeap : "")
                    + (label.isEmpty() ? "" : " --label " + label)
                    + (noPeers ? " --no-peers" : " --naive-batch-rows " + naiveBatchRows)
                    + (appLoadScale > 0 ? " --app-load-scale " + appLoadScale + " --app-clients " + appClients
                    + " --app-threads " + appThreads + " --app-latency-caps "
                    + String.join(",", appLatencyCaps.stream().map(String::valueOf).toList()) + " --app-window " + appWindow
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

    @Command(name = "sync", mixinStandardHelpOptions = true,
            description = "pgbench (TPC-B-like) tps and commit -> applied lag with no replication, with Shapeshift's sync "
                    + "of pgbench_accounts to a new table, and with PostgreSQL's logical replication of it to a second"
                    + " server; writes <date>-sync-pgbench-s<scale>-<seconds>s.md and .json.")
    static final class Sync implements Callable<Integer> {
        @Option(names = "--scale", defaultValue = "10", description = "pgbench -i -s (100,000 accounts each). Default: ${DEFAULT-VALUE}")
        int scale;

        @Option(names = "--duration", defaultValue = "60", description = "seconds per pgbench run (-T). Default: ${DEFAULT-VALUE}")
        int duration;

        @Option(names = "--rate", defaultValue = "0",
                description = "pgbench -R of the rate-limited runs; 0 = half the first unthrottled run's tps. Default: "
                        + "${DEFAULT-VALUE}")
        int rate;

        @Option(names = "--clients", defaultValue = "4", description = "pgbench -c. Default: ${DEFAULT-VALUE}")
        int clients;

        @Option(names = "--threads", defaultValue = "2", description = "pgbench -j. Default: ${DEFAULT-VALUE}")
        int threads;

        @Option(names = "--probe-ms", defaultValue = "100", description = "probe row write period. Default: ${DEFAULT-VALUE}")
        int probeMs;

        @Option(names = "--poll-ms", defaultValue = "5", description = "probe poll period on the replica. Default: ${DEFAULT-VALUE}")
        int pollMs;

        @Option(names = "--partitions", defaultValue = "4", description = "changes topic partitions. Default: ${DEFAULT-VALUE}")
        int partitions;

        @Option(names = "--pgbench", defaultValue = "/usr/bin/pgbench", description = "pgbench binary. Default: ${DEFAULT-VALUE}")
        String pgbench;

        @Option(names = "--in-place", description = "migrate pgbench_accounts in place (new column abalance_cents) instead of to a new table")
        boolean inPlace;

        @Option(names = "--compare-unguarded", description = "also run the sync without its visibility barrier (as before issue 12), "
                + "beside every guarded run; every Shapeshift run ends with an independent count of wrong rows")
        boolean unguarded;

        @Option(names = "--no-native", description = "leave out the runs with PostgreSQL's own logical replication")
        boolean noNative;

        @Option(names = "--reverse", description = "in place with a write switch: after the forward runs, switch writes "
                + "(the bench sets the phase) and measure the reverse sync under the same load writing the new column")
        boolean reverse;

        @Option(names = "--backfill-during", description = "in place (implies --in-place): the load without and with an "
                + "in-place backfill of the whole table by two product workers, with the bridge's origin filter on and off, "
                + "and one bulk UPDATE of the idle table as the backfill's baseline (issue 18 goal 1); skips the other "
                + "Shapeshift runs")
        boolean backfillDuring;

        @Option(names = "--role-jvms", description = "run the cdc-bridge and the worker each in its own JVM, started as "
                + "`shapeshift cdc-bridge` and `shapeshift worker` are (issue 18 goal 2); forward sync only")
        boolean roleJvms;

        @Option(names = "--pin", description = "pin CPUs with taskset: the source server and pgbench on CPU 0, this JVM "
                + "and everything it starts (role JVMs, the native subscriber's server) on the others, so the database "
                + "gets the same core in every run")
        boolean pin;

        @Option(names = "--jfr", paramLabel = "DIR", description = "with --role-jvms: record each role JVM with Java "
                + "Flight Recorder (settings=profile) into DIR/<role>-<n>.jfr")
        Path jfr;

        @Mixin
        Results results;

        @Override
        public Integer call() throws Exception {
            if (scale < 1 || duration < 1 || rate < 0 || clients < 1 || threads < 1 || probeMs < 1 || pollMs < 1
                    || partitions < 1) {
                throw results.invalid(
                        "need --scale, --duration, --clients, --threads, --probe-ms, --poll-ms, --partitions >= 1 and --rate >= 0");
            }
            String command = results.command("--scale " + scale + " --duration " + duration + " --rate " + rate
                    + " --clients " + clients + " --threads " + threads + " --probe-ms " + probeMs + " --poll-ms " + pollMs
                    + " --partitions " + partitions + " --pgbench " + pgbench + (inPlace ? " --in-place" : "")
                    + (unguarded ? " --compare-unguarded" : "") + (noNative ? " --no-native" : "")
                    + (reverse ? " --reverse" : "") + (backfillDuring ? " --backfill-during" : "")
                    + (roleJvms ? " --role-jvms" : "") + (pin ? " --pin" : "") + (jfr != null ? " --jfr " + jfr : ""));
            SyncBench.run(new SyncBench.Options(scale, duration, rate, clients, threads, probeMs, pollMs, partitions,
                    pgbench, results.out, command, inPlace || reverse || backfillDuring, unguarded, !noNative, reverse,
                    backfillDuring, roleJvms, pin, jfr), System.out);
            return 0;
        }
    }

    @Command(name = "reconcile", mixinStandardHelpOptions = true,
            description = "A full reconcile pass against count(*) and a hash-checksum scan of both tables, N identical "
                    + "rows; writes <date>-reconcile-<rows>.md and .json.")
    static final class Reconcile implements Callable<Integer> {
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

        @Mixin
        Results results;

        @Override
        public Integer call() throws Exception {
            if (rows < 1000 || rounds < 1 || rangeRows.stream().anyMatch(r -> r < 1)) {
                throw results.invalid("need --rows >= 1000, --rounds >= 1, --range-rows >= 1");
            }
            if (parallelism.stream().anyMatch(k -> k < 1 || k > dev.shapeshift.spec.Reconcile.MAX_PARALLELISM)) {
                throw results.invalid("--parallelism: each value must be between 1 and "
                        + dev.shapeshift.spec.Reconcile.MAX_PARALLELISM + " (reconcile.parallelism), got " + parallelism);
            }
            String command = results.command("--rows " + rows + " --range-rows "
                    + String.join(",", rangeRows.stream().map(String::valueOf).toList()) + " --parallelism "
                    + String.join(",", parallelism.stream().map(String::valueOf).toList()) + " --rounds " + rounds);
            ReconcileBench.run(new ReconcileBench.Options(rows, rangeRows, parallelism, rounds, results.out, command),
                    System.out);
            return 0;
        }
    }

    @Command(name = "index", mixinStandardHelpOptions = true,
            description = "The written table's index size after a backfill against a one-pass build of the same rows, "
                    + "table mode and in place, before and after the driver's index step (REINDEX INDEX CONCURRENTLY "
                    + "above the threshold); writes <date>-index-<rows>.md and .json.")
    static final class Index implements Callable<Integer> {
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

        @Mixin
        Results results;

        @Override
        public Integer call() throws Exception {
            if (rows < 1000 || workers < 1 || partitions < workers || chunkRows < 10 || reindexAbovePct < 0) {
                throw results.invalid("need --rows >= 1000, --workers >= 1, "
                        + "--partitions >= --workers, --chunk-rows >= 10, --reindex-above-pct >= 0");
            }
            String command = results.command("--rows " + rows + " --workers " + workers + " --chunk-rows "
                    + chunkRows + " --partitions " + partitions + " --reindex-above-pct " + reindexAbovePct);
            IndexBench.run(new IndexBench.Options(rows, workers, chunkRows, partitions, reindexAbovePct / 100.0, results.out,
                    command), System.out);
            return 0;
        }
    }

    @Command(name = "ddl", mixinStandardHelpOptions = true,
            description = "The application's longest statement wait while NOT NULL and a unique index are added to N rows: "
                    + "the naive statements against Shapeshift's staged enforcement, same run; writes <date>-ddl-<rows>.md "
                    + "and .json.")
    static final class Ddl implements Callable<Integer> {
        @Option(names = "--rows", defaultValue = "1000000", description = "rows in the table. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--clients", defaultValue = "4", description = "application sessions updating rows. Default: ${DEFAULT-VALUE}")
        int clients;

        @Option(names = "--rounds", defaultValue = "2", description = "rounds of every case. Default: ${DEFAULT-VALUE}")
        int rounds;

        @Mixin
        Results results;

        @Override
        public Integer call() throws Exception {
            if (rows < 1000 || clients < 1 || rounds < 1) {
                throw results.invalid("need --rows >= 1000, --clients >= 1, --rounds >= 1");
            }
            String command = results.command("--rows " + rows + " --clients " + clients + " --rounds " + rounds);
            DdlBench.run(new DdlBench.Options(rows, clients,
                    rounds, results.out, command), System.out);
            return 0;
        }
    }

    @Command(name = "plan", mixinStandardHelpOptions = true,
            description = "Chunk sizes of the chunk planner on a table stored in key order and one in random order, the "
                    + "sample sized by pages (the planner's) vs by rows (before); writes <date>-plan-<rows>.md and .json.")
    static final class Plan implements Callable<Integer> {
        @Option(names = "--rows", defaultValue = "5000000", description = "rows in each table. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--chunk-rows", defaultValue = "50000", description = "backfill.chunkRows. Default: ${DEFAULT-VALUE}")
        int chunkRows;

        @Mixin
        Results results;

        @Override
        public Integer call() throws Exception {
            if (rows < 10_000 || chunkRows < 1) {
                throw results.invalid("need --rows >= 10000 and --chunk-rows >= 1");
            }
            PlanBench.run(new PlanBench.Options(rows, chunkRows, results.out,
                    results.command("--rows " + rows + " --chunk-rows " + chunkRows)), System.out);
            return 0;
        }
    }

    @Command(name = "sink", mixinStandardHelpOptions = true,
            description = "The translation sink seeding the example translation service (in this JVM, its own database): "
                    + "one call per row against one batch call, N rows, same run; writes <date>-sink-translation-<rows>.md "
                    + "and .json.")
    static final class Sink implements Callable<Integer> {
        @Option(names = "--rows", defaultValue = "10000", description = "rows seeded per run. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--rounds", defaultValue = "2", description = "rounds of both modes. Default: ${DEFAULT-VALUE}")
        int rounds;

        @Mixin
        Results results;

        @Override
        public Integer call() throws Exception {
            if (rows < 1000 || rounds < 1) {
                throw results.invalid("need --rows >= 1000, --rounds >= 1");
            }
            String command = results.command("--rows " + rows + " --rounds " + rounds);
            dev.shapeshift.launcher.bench.SinkBench.run(new dev.shapeshift.launcher.bench.SinkBench.Options(rows, rounds, results.out,
                    command), System.out);
            return 0;
        }
    }

    @Command(name = "read-counter", mixinStandardHelpOptions = true,
            description = "What the read counter (table mode, after the write switch) costs a read of the old table: the "
                    + "same reads with and without it, same run; writes <date>-read-counter-<rows>.md and .json.")
    static final class ReadCounterCase implements Callable<Integer> {
        @Option(names = "--rows", defaultValue = "100000", description = "rows in the table. Default: ${DEFAULT-VALUE}")
        long rows;

        @Option(names = "--clients", defaultValue = "1,4", split = ",", description = "reading sessions, one case each. Default: ${DEFAULT-VALUE}")
        List<Integer> clients;

        @Option(names = "--seconds", defaultValue = "5", description = "seconds per case. Default: ${DEFAULT-VALUE}")
        int seconds;

        @Option(names = "--rounds", defaultValue = "3", description = "rounds of every case. Default: ${DEFAULT-VALUE}")
        int rounds;

        @Mixin
        Results results;

        @Override
        public Integer call() throws Exception {
            if (rows < 1000 || clients.isEmpty() || clients.stream().anyMatch(c -> c < 1) || seconds < 1 || rounds < 1) {
                throw results.invalid(
                        "need --rows >= 1000, --clients >= 1 each, --seconds >= 1, --rounds >= 1");
            }
            String command = results.command("--rows " + rows + " --clients "
                    + clients.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")) + " --seconds "
                    + seconds + " --rounds " + rounds);
            ReadCounterBench.run(new ReadCounterBench.Options(rows, clients, seconds, rounds, results.out, command), System.out);
            return 0;
        }
    }

    @Command(name = "soak", mixinStandardHelpOptions = true,
            description = "A long run (not in CI): pgbench's TPC-B load at a steady rate while a migration of "
                    + "pgbench_accounts runs from start to contract through the coordinator and the CLI, one role "
                    + "(coordinator, cdc-bridge, worker) killed with SIGKILL every few minutes (seeded), memory, file "
                    + "descriptors and slot retained WAL sampled; ends with independent checks. Writes "
                    + "<date>-soak-<minutes>min.md, .html (plots) and .json.")
    static final class Soak implements Callable<Integer> {
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

    @Command(name = "all", mixinStandardHelpOptions = true,
            description = "Every benchmark of issue 18 in one go at small defaults (about 15 minutes on 2 cores): backfill "
                    + "table and in place (with the bulk baseline and the peer loops), reconcile, index, plan, sync (short "
                    + "pgbench); each step's files in <out>/<date>-all-<rows>/, and one summary of every ratio and its "
                    + "baseline in <out>/<date>-all-<rows>.md and .json.")
    static final class All implements Callable<Integer> {
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

        @Mixin
        Results results;

        @Override
        public Integer call() throws Exception {
            if (rows < 10_000 || workers < 1 || workers > 8 || syncScale < 1 || syncDuration < 1) {
                throw results.invalid("need --rows >= 10000, --workers 1..8, --sync-scale >= 1 and --sync-duration >= 1");
            }
            AllBench.Options o = new AllBench.Options(rows, workers, syncScale, syncDuration, pgbench, results.out,
                    results.command("--rows " + rows + " --workers " + workers + " --sync-scale " + syncScale
                            + " --sync-duration " + syncDuration + " --pgbench " + pgbench));
            Path md = AllBench.run(o, AllBench.steps(o), System.out);
            return java.nio.file.Files.readString(md).contains("**failed**") ? 1 : 0;
        }
    }
}
