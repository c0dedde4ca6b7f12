package dev.shapeshift.launcher;

import dev.shapeshift.launcher.demo.Demo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code shapeshift demo}: the whole migration on the embedded stack, with a live application load. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Runs a whole expand-contract migration on an embedded PostgreSQL and Kafka while an application"
                + " writes: expand, sync, backfill with several workers, reconcile, dual writes, read switch, write switch"
                + " (users and menu: in place), contract; ends with a summary (with dual-write mismatches, reverse-synced"
                + " rows and a nightly export's reads of the old column) and exits 0 only if target = transform(source)."
                + " menu also runs the example translation service, seeded through a second migration in sink mode.")
public final class DemoCommand implements ExtraCommand, Callable<Integer> {
    @Option(names = "--scenario", defaultValue = "users",
            description = "users (in place: legacy_verified_at -> email_verified), table (users -> users_v2), "
                    + "menu (label -> translate_key). Default: ${DEFAULT-VALUE}")
    String scenario;

    @Option(names = "--rows", description = "rows in the source table. Default: 500000; menu: 20000 (each row is also "
            + "seeded into the translation service over HTTP)")
    Long rows;

    @Option(names = "--write-rate", defaultValue = "200", description = "application writes per second (at least 1 for"
            + " users and menu: the write switch's gate needs the application's writes). Default: ${DEFAULT-VALUE}")
    int writeRate;

    @Option(names = "--workers", defaultValue = "3", description = "worker count. Default: ${DEFAULT-VALUE}")
    int workers;

    @Option(names = "--partitions", defaultValue = "6", description = "partitions of the migration's topics. Default: ${DEFAULT-VALUE}")
    int partitions;

    @Option(names = "--keep-running", description = "keep the stack and dashboard up after the summary (Ctrl-C to stop)")
    boolean keepRunning;

    @Override
    public Integer call() throws Exception {
        return Demo.run(scenario, rows == null ? -1 : rows, writeRate, workers, partitions, keepRunning, System.out);
    }
}
