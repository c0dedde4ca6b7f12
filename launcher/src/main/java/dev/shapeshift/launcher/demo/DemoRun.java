package dev.shapeshift.launcher.demo;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.ChunkStore.Totals;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.Migrator;
import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.contract.Cleanup;
import dev.shapeshift.coordinator.contract.Contractor;
import dev.shapeshift.coordinator.gate.GateClosedException;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.coordinator.reconcile.Reconciler;
import dev.shapeshift.coordinator.reconcile.Repairer;
import dev.shapeshift.coordinator.reconcile.RunStore.Run;
import dev.shapeshift.coordinator.reconcile.SyncProgress;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.flag.FlagClient;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Validation;
import dev.shapeshift.worker.Worker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One whole migration on the embedded stack, every role in this JVM: a real PostgreSQL, a real
 * Kafka broker, the Debezium bridge, {@code workers} workers and the coordinator's phase steps,
 * while an application writes to the old shape and reads the shape its read-switch flag names.
 * It reads top to bottom like the runbook (docs/operations.md).
 */
final class DemoRun {
    private static final Logger log = LoggerFactory.getLogger(DemoRun.class);
    private static final String ACTOR = "demo";
    private static final int INJECTED_DRIFT = 3;
    /** The demo's dashboard token: a local, throw-away stack; real deployments read it from a secret file. */
    private static final String DASHBOARD_TOKEN = "demo-" + java.util.UUID.randomUUID();

    record Options(Scenario scenario, long rows, int writeRate, int workers, int partitions, boolean keepRunning) {
    }

    private final Options options;
    private final Scenario scenario;
    private final PrintStream out;
    private final PhaseClock clock;
    private final Summary summary = new Summary();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private Reconciler reconciler;

    DemoRun(Options options, PrintStream out) {
        this.options = options;
        this.scenario = options.scenario();
        this.out = out;
        this.clock = new PhaseClock(out);
    }

    /** Returns the process exit code: 0 only if the independent check found target = transform(source). */
    int run() throws Exception {
        clock.begin("stack", "starting embedded PostgreSQL and Kafka (real servers, free ports)");
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.defaults());
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            Database db = new Database(pg.jdbcUrl(pg.createDatabase("shapeshift_demo")), pg.user(), pg.password());
            out.printf("    PostgreSQL %s  Kafka %s%n", db.safeUrl(), kafka.bootstrapServers());

            clock.begin("seed", String.format("creating %s with %,d rows", scenario.table, options.rows()));
            Database appDb = DemoDatabase.seed(db, scenario, options.rows(), out);
            double bulkRate = DemoDatabase.bulkBaseline(db, scenario, out);
            CatalogSchema.migrate(db);
            MigrationSpec spec = new SpecReader().read(scenario.migration + ".yaml", scenario.specYaml());
            out.println("    spec:\n" + scenario.specYaml().indent(6).stripTrailing());
            summary.add("scenario", scenario.name().toLowerCase() + " (" + spec.mode().yaml() + ")")
                    .add("rows in source at start", String.format("%,d", options.rows()))
                    .add("workers / partitions", options.workers() + " / " + options.partitions());

            Catalog catalog = new Catalog(db, "coordinator");
            Transitions transitions = GateWiring.transitions(db, "coordinator");
            Migrator migrator = new Migrator(db, kafka.bootstrapServers(),
                    (m, from, to, actor, reason) -> transitions.advance(m, to, actor, reason), ACTOR, options.partitions());
            try (AppLoad app = new AppLoad(appDb, scenario, options.rows(), options.writeRate(), 42);
                 FlagClient flags = new FlagClient(db, FlagClient.Options.defaults());
                 Coordinator coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, DASHBOARD_TOKEN,
                         null, null), registry, new AccessGate(new AccessWatch(db)))) {
                out.printf("    dashboard: http://127.0.0.1:%d/#token=%s%n", coordinator.port(), DASHBOARD_TOKEN);
                app.readSwitch(() -> flags.isOn(spec.flagName()));
                app.start();
                out.printf("    application: %d ops/s writing the old shape, reading the shape flag %s names%n",
                        options.writeRate(), spec.flagName());
                int code = migrate(db, kafka.bootstrapServers(), spec, migrator, transitions, app, bulkRate);
                if (options.keepRunning()) {
                    out.printf("%n    --keep-running: the stack and the dashboard stay up (http://127.0.0.1:%d/#token=%s); "
                            + "Ctrl-C stops them%n", coordinator.port(), DASHBOARD_TOKEN);
                    awaitShutdown();
                }
                return code;
            }
        }
    }

    private int migrate(Database db, String bootstrap, MigrationSpec spec, Migrator migrator, Transitions transitions,
                        AppLoad app, double bulkRate) throws Exception {
        clock.begin("planned", "validating the spec against the live database");
        Validation v = migrator.register(spec, scenario.migration + ".yaml", scenario.specYaml());

        clock.begin("expanded", "applying the additive DDL: " + String.join("; ", v.expand().statements()).replaceAll("\\s+", " "));
        migrator.expand(spec.name(), v.expand());

        BridgeConfig bridgeConfig = BridgeConfig.of(db, bootstrap)
                .withReplication((short) 1, options.partitions()).withHeartbeat(Duration.ofSeconds(1));
        long mismatches;
        try (CdcBridge bridge = new CdcBridge(bridgeConfig, registry)) {
            clock.begin("syncing", "cdc-bridge: slot " + bridgeConfig.slot() + ", publication "
                    + bridgeConfig.publication() + "; sync covers the table before the first chunk reads");
            bridge.start();
            migrator.awaitSyncing(spec.name(), Duration.ofMinutes(2));
            ResolvedSpec resolved;
            try (Connection c = db.connect("coordinator")) {
                resolved = SpecValidator.resolveExpanded(spec.name(), spec, c);
            }
            List<Worker> workers = startWorkers(db, bootstrap, spec.name());
            try {
                clock.begin("backfilling", options.workers() + " workers copy the existing rows in checkpointed chunks");
                out.printf("    %d chunks planned%n", migrator.startBackfill(resolved).size());
                Totals done = backfillWithProgress(migrator, spec.name());
                double seconds = clock.durations().getOrDefault("backfilling", Duration.ZERO).toMillis() / 1000.0;
                double rate = done.rowsCopied() / Math.max(seconds, 0.001);
                summary.add("backfill rows copied", String.format("%,d in %d chunks", done.rowsCopied(), done.chunks()))
                        .add("backfill rate (incl. planning)", String.format("%,.0f rows/s", rate))
                        .add("bulk baseline (one statement)", String.format("%,.0f rows/s", bulkRate))
                        .add("backfill / bulk ratio", String.format("%.2f", rate / bulkRate));

                verify(db, migrator.catalog(), resolved, bridgeConfig.slot(), transitions);
                switchReads(db, spec, transitions, app);
                mismatches = catchUp(db, app);
                contractReady(spec, transitions);
            } finally {
                workers.forEach(Worker::close);
            }
        }
        long lost = contract(db, bootstrap, spec, transitions, bridgeConfig.publication());
        return report(spec, app, mismatches, lost);
    }

    /** backfilled → verified: a full reconciliation while the application writes; injected drift is found and repaired. */
    private void verify(Database db, Catalog catalog, ResolvedSpec resolved, String slot, Transitions transitions)
            throws SQLException {
        String migration = resolved.spec().name();
        clock.begin("verifying", "reconciling both shapes in the database; " + INJECTED_DRIFT
                + " rows are corrupted behind the sync's back first, to show detection and repair");
        DemoDatabase.injectDrift(db, scenario, INJECTED_DRIFT);
        reconciler = new Reconciler(catalog, migration, resolved, SyncProgress.slot(db, slot), registry,
                Reconciler.Options.from(resolved.spec().reconcile()));
        Run first = reconciler.runOnce(() -> false);
        out.printf("    reconcile run #%d: %,d rows checked, %d keys drifted (%d transient differences re-checked away)%n",
                first.id(), first.rowsChecked(), first.driftFound(), first.transientKeys());
        Repairer.RepairReport repair = new Repairer(catalog, resolved, new WorkerTransactions(WorkerTransactions.Policy.DEFAULT))
                .repair(migration, ACTOR, "demo: repair the drift the reconciliation found");
        out.printf("    repaired: %d keys refreshed, %d resolved, %d still different%n",
                repair.refreshed(), repair.resolved(), repair.stillDifferent());
        Run second = reconciler.runOnce(() -> false);
        out.printf("    reconcile run #%d: %,d rows checked, %d keys drifted%n", second.id(), second.rowsChecked(),
                second.driftFound());
        summary.add("drift injected / found / repaired", INJECTED_DRIFT + " / " + first.driftFound() + " / " + repair.resolved())
                .add("drift after repair (full run)", Long.toString(second.driftFound()));
        transitions.advance(migration, Phase.VERIFIED, ACTOR, "full reconcile run #" + second.id() + " found no drift");
    }

    /** verified → reads-switched once verification held for the spec's clean-for period; the flag flips with it. */
    private void switchReads(Database db, MigrationSpec spec, Transitions transitions, AppLoad app) {
        clock.begin("reads-switched", "waiting " + spec.readSwitch().cleanFor().toSeconds()
                + " s clean-for, then flipping flag " + spec.flagName());
        sleep(spec.readSwitch().cleanFor().plusMillis(500));
        Run since = reconciler.runOnce(() -> false);
        out.printf("    reconcile run #%d (started after verified): %,d rows checked, %d keys drifted%n", since.id(),
                since.rowsChecked(), since.driftFound());
        transitions.advance(spec.name(), Phase.READS_SWITCHED, ACTOR, "verified held for the clean-for period and "
                + "reconcile run #" + since.id() + " since then found no drift");
        new AccessWatch(db).baseline(spec.name());
        long before = app.newShapeReads();
        sleep(Duration.ofSeconds(3));
        out.printf("    application now reads the new shape (%d reads in 3 s)%n", app.newShapeReads() - before);
    }

    /** The application stops writing the old shape; sync drains; the independent check. */
    private long catchUp(Database db, AppLoad app) throws SQLException {
        clock.begin("catch-up", "the application stops writing the old shape (it writes the new one now); sync drains");
        app.mode(AppLoad.Mode.READ_ONLY);
        long mismatches = DemoDatabase.awaitConverged(db, scenario, Duration.ofMinutes(2));
        out.printf("    independent check: %d rows where the new shape != transform(old shape)%n", mismatches);
        return mismatches;
    }

    /** reads-switched → contract-ready once the database shows no foreign access to the old shape for the quiet period. */
    private void contractReady(MigrationSpec spec, Transitions transitions) {
        clock.begin("contract-ready", "waiting for evidence: nothing but Shapeshift touches the old shape for "
                + spec.contract().quietPeriod().toSeconds() + " s (pg_stat_statements, by role)");
        long deadline = System.nanoTime() + spec.contract().quietPeriod().multipliedBy(4).plusSeconds(60).toNanos();
        String shown = null;
        while (true) {
            try {
                transitions.advance(spec.name(), Phase.CONTRACT_READY, ACTOR, "no foreign access for the quiet period");
                return;
            } catch (GateClosedException e) {
                String why = e.report().failed().stream().map(Object::toString).reduce((a, b) -> a + "; " + b).orElse("");
                if (!why.equals(shown)) {
                    out.println("    gate closed: " + why.lines().findFirst().orElse(why));
                    shown = why;
                }
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                sleep(Duration.ofSeconds(1));
            }
        }
    }

    /** contract-ready → contracted: archive and drop the old shape; then clean up slot, publication and topics. */
    private long contract(Database db, String bootstrap, MigrationSpec spec, Transitions transitions, String publication)
            throws SQLException {
        clock.begin("contracted", "archiving the old shape to shapeshift_archive, dropping it from the live table");
        var archive = new Contractor(db, transitions).contract(spec.name(), ACTOR, "demo: evidence gate open");
        out.println("    archive: " + archive.map(Object::toString).orElse("none"));
        long lost = DemoDatabase.count(db, scenario.mismatchAfterContractSql());
        out.printf("    independent check after the contract: %d rows where the new shape != transform(archived old shape)%n", lost);
        var cleanup = new Cleanup(db, bootstrap, publication, CdcBridge::dropSlot)
                .run(spec.name(), ACTOR, "demo: migration contracted");
        out.println("    cleaned up: " + String.join(", ", cleanup.done()));
        return lost;
    }

    private int report(MigrationSpec spec, AppLoad app, long mismatches, long lost) {
        clock.end();
        summary.add("application writes / failed statements", app.writes() + " / " + app.failures());
        if (scenario.fallsBackToOldShape()) {
            summary.add("reads that fell back to the old shape", app.fallbackReads() + " of " + app.newShapeReads());
        }
        summary
                .add("sync apply latency p50 / p99", DemoMetrics.latency(registry, spec.name()))
                .add("independent check: mismatched rows", Long.toString(mismatches))
                .add("after contract: rows lost or wrong", Long.toString(lost))
                .phases(clock.durations());
        summary.print(out);
        if (mismatches != 0 || lost != 0 || app.failures() != 0) {
            out.println("FAILED: target != transform(source), data lost at the contract, or application statements failed");
            return ErrorCode.INTERNAL.exitCode();
        }
        out.println("OK: target = transform(source), checked by an independent query, before and after the contract");
        return 0;
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
        try (var bar = DemoMetrics.progressBar("backfill", migrator.chunks().totals(migration).estimatedRows())) {
            return migrator.awaitBackfilled(migration, Duration.ofMillis(500), t -> {
                bar.maxHint(Math.max(t.estimatedRows(), t.rowsCopied()));
                bar.stepTo(t.rowsCopied());
                bar.setExtraMessage(" " + t.done() + "/" + t.chunks() + " chunks");
            });
        }
    }

    private static void awaitShutdown() throws InterruptedException {
        java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "demo-stop"));
        stop.await();
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted", e);
        }
    }
}
