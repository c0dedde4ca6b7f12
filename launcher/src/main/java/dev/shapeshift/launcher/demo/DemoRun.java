package dev.shapeshift.launcher.demo;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.ChunkStore.Totals;
import dev.shapeshift.coordinator.Migrator;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Validation;
import dev.shapeshift.worker.Worker;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One whole migration on the embedded stack, every role in this JVM: a real PostgreSQL, a real
 * Kafka broker, the Debezium bridge, {@code workers} workers and the coordinator's phase steps,
 * while an application writes to the old shape. It reads top to bottom like the runbook.
 */
final class DemoRun {
    private static final Logger log = LoggerFactory.getLogger(DemoRun.class);
    private static final String ACTOR = "demo";

    record Options(Scenario scenario, long rows, int writeRate, int workers, int partitions, boolean keepRunning) {
    }

    private final Options options;
    private final PrintStream out;
    private final PhaseClock clock;
    private final Summary summary = new Summary();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    DemoRun(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
        this.clock = new PhaseClock(out);
    }

    /** Returns the process exit code: 0 only if the independent check found target = transform(source). */
    int run() throws Exception {
        Scenario scenario = options.scenario();
        clock.begin("stack", "starting embedded PostgreSQL and Kafka (real servers, free ports)");
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.defaults());
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String dbName = pg.createDatabase("shapeshift_demo");
            Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
            out.printf("    PostgreSQL %s  Kafka %s%n", db.safeUrl(), kafka.bootstrapServers());

            clock.begin("seed", String.format("creating %s with %,d rows", scenario.table, options.rows()));
            seed(db, scenario);
            double bulkRowsPerSecond = measureBulkBaseline(db, scenario);
            CatalogSchema.migrate(db);

            MigrationSpec spec = new SpecReader().read(scenario.migration + ".yaml", scenario.specYaml());
            out.println("    spec:\n" + scenario.specYaml().indent(6).stripTrailing());
            Transitions transitions = new Transitions(new dev.shapeshift.catalog.Catalog(db, "coordinator"));
            Migrator migrator = new Migrator(db, kafka.bootstrapServers(),
                    (m, from, to, actor, reason) -> transitions.advance(m, to, actor, reason), ACTOR, options.partitions());

            try (AppLoad app = new AppLoad(db, scenario, options.rows(), options.writeRate(), 42)) {
                app.start();
                out.printf("    application writing to the old shape at %d ops/s%n", options.writeRate());

                clock.begin("planned", "validating the spec against the live database");
                Validation v = migrator.register(spec, scenario.migration + ".yaml", scenario.specYaml());

                clock.begin("expanded", "applying the additive DDL: " + String.join("; ", v.expand().statements()));
                migrator.expand(spec.name(), v.expand());

                BridgeConfig bridgeConfig = BridgeConfig.of(db, kafka.bootstrapServers())
                        .withReplication((short) 1, options.partitions()).withHeartbeat(Duration.ofSeconds(1));
                try (CdcBridge bridge = new CdcBridge(bridgeConfig, registry)) {
                    clock.begin("syncing", "cdc-bridge: slot " + bridgeConfig.slot() + ", publication "
                            + bridgeConfig.publication() + "; sync starts before the first chunk reads");
                    bridge.start();
                    migrator.awaitSyncing(spec.name(), Duration.ofMinutes(2));
                    ResolvedSpec resolved;
                    try (Connection c = db.connect("coordinator")) {
                        resolved = SpecValidator.resolveExpanded(spec.name(), spec, c);
                    }
                    List<Worker> workers = startWorkers(db, kafka.bootstrapServers(), spec.name());
                    try {
                        clock.begin("backfilling", options.workers() + " workers copy the existing rows in chunks");
                        var plan = migrator.startBackfill(resolved);
                        out.printf("    %d chunks planned%n", plan.size());
                        Totals done = backfillWithProgress(migrator, spec.name());
                        double backfillSeconds = clock.durations().getOrDefault("backfilling", Duration.ZERO).toMillis() / 1000.0;
                        double backfillRate = done.rowsCopied() / Math.max(backfillSeconds, 0.001);

                        clock.begin("catch-up", "stopping the application's writes and letting sync drain");
                        app.mode(AppLoad.Mode.IDLE);
                        long mismatches = awaitConverged(db, scenario, Duration.ofMinutes(2));
                        clock.end();

                        summary.add("scenario", scenario.name().toLowerCase() + " (" + spec.mode().yaml() + ")")
                                .add("rows in source at start", String.format("%,d", options.rows()))
                                .add("workers / partitions", options.workers() + " / " + options.partitions())
                                .add("backfill rows copied", String.format("%,d in %d chunks", done.rowsCopied(), done.chunks()))
                                .add("backfill rate", String.format("%,.0f rows/s", backfillRate))
                                .add("bulk baseline (one statement)", String.format("%,.0f rows/s", bulkRowsPerSecond))
                                .add("backfill / bulk ratio", String.format("%.2f", backfillRate / bulkRowsPerSecond))
                                .add("application writes / failures", app.writes() + " / " + app.failures())
                                .add("sync apply latency p50 / p99", latency(spec.name()))
                                .add("independent check: mismatched rows", Long.toString(mismatches))
                                .phases(clock.durations());
                        summary.print(out);
                        if (mismatches != 0 || app.failures() != 0) {
                            out.println("FAILED: target != transform(source) or application writes failed");
                            return ErrorCode.INTERNAL.exitCode();
                        }
                        out.println("OK: target = transform(source), checked by an independent query");
                        return 0;
                    } finally {
                        workers.forEach(Worker::close);
                    }
                }
            }
        }
    }

    private void seed(Database db, Scenario scenario) throws SQLException {
        try (Connection c = db.connect("demo-seed"); Statement s = c.createStatement()) {
            s.execute(scenario.createSql());
            long t0 = System.nanoTime();
            s.execute(scenario.seedSql(options.rows()));
            s.execute("ANALYZE " + scenario.table);
            out.printf("    loaded %,d rows in %.1f s%n", options.rows(), (System.nanoTime() - t0) / 1e9);
        }
    }

    /** The same transform over the same rows as one bulk statement: the baseline of the backfill rate. */
    private double measureBulkBaseline(Database db, Scenario scenario) throws SQLException {
        try (Connection c = db.connect("demo-baseline"); Statement s = c.createStatement()) {
            for (String sql : scenario.bulkBaselineSetup()) {
                s.execute(sql);
            }
            s.execute("CHECKPOINT");
            long t0 = System.nanoTime();
            int rows = s.executeUpdate(scenario.bulkBaselineSql());
            double seconds = (System.nanoTime() - t0) / 1e9;
            for (String sql : scenario.bulkBaselineTeardown()) {
                s.execute(sql);
            }
            double rate = rows / seconds;
            out.printf("    bulk baseline: one statement over %,d rows in %.2f s (%,.0f rows/s)%n", rows, seconds, rate);
            return rate;
        }
    }

    private List<Worker> startWorkers(Database db, String bootstrap, String migration) {
        List<Worker> workers = new ArrayList<>();
        for (int i = 1; i <= options.workers(); i++) {
            Worker w = new Worker(db, bootstrap, Worker.Config.of("demo-worker-" + i, List.of(migration)), registry);
            w.start();
            workers.add(w);
        }
        return workers;
    }

    private Totals backfillWithProgress(Migrator migrator, String migration) {
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("backfill").setStyle(ProgressBarStyle.ASCII)
                .setInitialMax(Math.max(1, migrator.chunks().totals(migration).estimatedRows())).setUnit(" rows", 1)
                .showSpeed().setUpdateIntervalMillis(500).build()) {
            return migrator.awaitBackfilled(migration, Duration.ofMillis(500), t -> {
                bar.maxHint(Math.max(t.estimatedRows(), t.rowsCopied()));
                bar.stepTo(t.rowsCopied());
                bar.setExtraMessage(t.done() + "/" + t.chunks() + " chunks");
            });
        }
    }

    /** Waits until the independent check finds no mismatch (sync caught up); returns the last count. */
    private long awaitConverged(Database db, Scenario scenario, Duration timeout) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long mismatches;
        do {
            mismatches = mismatches(db, scenario);
            if (mismatches == 0) {
                return 0;
            }
            sleep(Duration.ofMillis(500));
        } while (System.nanoTime() < deadline);
        return mismatches;
    }

    static long mismatches(Database db, Scenario scenario) throws SQLException {
        try (Connection c = db.connect("demo-check"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(scenario.mismatchSql())) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private String latency(String migration) {
        var timer = registry.find("shapeshift.sync.apply.latency").tag("migration", migration).timer();
        if (timer == null || timer.count() == 0) {
            return "no changes applied";
        }
        double p50 = 0;
        double p99 = 0;
        for (ValueAtPercentile v : timer.takeSnapshot().percentileValues()) {
            if (v.percentile() == 0.5) {
                p50 = v.value(TimeUnit.MILLISECONDS);
            } else if (v.percentile() == 0.99) {
                p99 = v.value(TimeUnit.MILLISECONDS);
            }
        }
        return String.format("%.0f ms / %.0f ms (%d changes)", p50, p99, timer.count());
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted", e);
        }
    }
}
