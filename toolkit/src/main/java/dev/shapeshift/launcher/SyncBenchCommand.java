package dev.shapeshift.launcher;

import dev.shapeshift.launcher.BenchCommand.Results;
import dev.shapeshift.launcher.bench.SyncBench;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code shapeshift bench sync}, a subcommand of {@link BenchCommand}. */
@Command(name = "sync", mixinStandardHelpOptions = true,
        description = "pgbench (TPC-B-like) tps and commit -> applied lag with no replication, with Shapeshift's sync "
                + "of pgbench_accounts to a new table, and with PostgreSQL's logical replication of it to a second"
                + " server; writes <date>-sync-pgbench-s<scale>-<seconds>s.md and .json.")
final class SyncBenchCommand implements Callable<Integer> {
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
