package dev.shapeshift.launcher.demo;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.contract.AccessReport;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.ChunkStore.Totals;
import dev.shapeshift.coordinator.reconcile.Repairer;
import dev.shapeshift.coordinator.register.Registrar;
import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.coordinator.status.MigrationStatus;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.flag.FlagClient;
import dev.shapeshift.launcher.run.AllRoles;
import dev.shapeshift.launcher.run.Operator;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One whole migration on the embedded stack while an application writes to the old shape and reads
 * the shape its read-switch flag names. The demo owns the stack (a real PostgreSQL and Kafka), the
 * application and the drift it injects behind the sync's back; the migration itself goes through
 * exactly what a user runs: the spec registered like {@code shapeshift start}, every role in this
 * process like {@code shapeshift run} ({@link AllRoles}: the coordinator's driver walks the
 * phases), and the operator's acts at a terminal ({@link Operator}, as {@code run --yes}: the read
 * switch and the contract approved once their gates open; the drift repaired as
 * {@code shapeshift reconcile run --repair} does).
 *
 * <p>Why one class of ~480 lines: the demo is told in the order it happens, one method per act; it
 * is demo code, not in the runtime jar, and the migration itself runs through the same commands a
 * user runs.
 */
final class DemoRun {
    private static final Logger log = LoggerFactory.getLogger(DemoRun.class);
    private static final String ACTOR = "demo";
    private static final int INJECTED_DRIFT = 3;

    record Options(Scenario scenario, long rows, int writeRate, int workers, int partitions, boolean keepRunning) {
    }

    private final Options options;
    private final Scenario scenario;
    private final PrintStream out;
    private final PhaseClock clock;
    private final Summary summary = new Summary();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** The menu story's translation service and sink migration (menu scenario only). */
    private MenuService menu;
    private long mismatches = -1;
    private long driftFound;
    private long driftRepaired;
    private boolean injected;

    DemoRun(Options options, PrintStream out) {
        this.options = options;
        this.scenario = options.scenario();
        this.out = out;
        this.clock = new PhaseClock(out);
    }

    /** Returns the process exit code: 0 only if the independent check found target = transform(source). */
    int run() throws Exception {
        clock.begin("stack", "starting embedded PostgreSQL and Kafka (real servers, free ports)");
        Path dataDir = Files.createTempDirectory("shapeshift-demo-");
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
            summary.add("scenario", scenario.name().toLowerCase() + " (" + spec.mode().label() + ")")
                    .add("rows in source at start", String.format("%,d", options.rows()))
                    .add("workers / partitions", options.workers() + " / " + options.partitions());

            clock.begin("planned", "registering the spec as `shapeshift start` does: validated against the live database");
            Registration r = new Registrar(db, "cli:" + ACTOR).register(scenario.migration + ".yaml", spec,
                    scenario.specYaml());
            if (!r.accepted()) {
                throw new ShapeshiftException(r.outcome().error(), r.message());
            }
            menu = scenario == Scenario.MENU ? MenuService.start(pg, db, appDb, out) : null;
            AllRoles.Options roles = new AllRoles.Options(db, kafka.bootstrapServers(), dataDir, options.workers(),
                    options.partitions(), "127.0.0.1", 0, Duration.ofSeconds(1));
            try (MenuService closeMenu = menu;
                 AppLoad app = new AppLoad(appDb, scenario, options.rows(), options.writeRate(), 42);
                 FlagClient flags = new FlagClient(db, FlagClient.Options.defaults());
                 AllRoles stack = AllRoles.start(roles, registry)) {
                out.printf("    every role in this process, as `shapeshift run` starts them; dashboard: "
                        + "http://127.0.0.1:%d/#token=%s%n", stack.port(), stack.adminToken());
                app.readSwitch(() -> flags.isOn(spec.flagName()));
                app.writeSwitch(() -> flags.isOn(spec.writeFlagName()));
                app.start();
                out.printf("    application: %d ops/s from %d instances running v1 (writes the old shape), reading the "
                        + "shape flag %s names%n", options.writeRate(), AppLoad.INSTANCES, spec.flagName());
                Phase end = new Operator(db, spec.name(), "cli:" + ACTOR, out, Operator.Approver.YES)
                        .follow(Duration.ofSeconds(2), new Steps(db, spec, app));
                stopExport("the export was still running at the end");
                if (end != Phase.CONTRACTED) {
                    out.println("FAILED: the migration ended " + end);
                    return ErrorCode.INTERNAL.exitCode();
                }
                var cleanup = stack.finish(spec.name(), "cli:" + ACTOR);
                out.println("    roles stopped; cleaned up: " + String.join(", ", cleanup.done())
                        + (cleanup.left().isEmpty() ? "" : "; left: " + String.join(", ", cleanup.left())));
                long lost = contracted(db);
                driftFound = DemoDatabase.count(db, "SELECT count(*) FROM shapeshift.drift WHERE migration = '"
                        + spec.name().replace("'", "''") + "'");
                int code = report(db, spec, app, bulkRate, new ChunkStore(new Catalog(db, "demo")).totals(spec.name()), lost);
                if (options.keepRunning()) {
                    out.printf("%n    --keep-running: the stack and the dashboard stay up (http://127.0.0.1:%d/#token=%s); "
                            + "Ctrl-C stops them%n", stack.port(), stack.adminToken());
                    awaitShutdown();
                }
                return code;
            }
        }
    }

    /** What the demo adds to the driver's walk: the phase lines, the drift it injects and repairs, the application's catch-up. */
    private final class Steps implements Operator.Listener {
        private final Database db;
        private final MigrationSpec spec;
        private final AppLoad app;

        Steps(Database db, MigrationSpec spec, AppLoad app) {
            this.db = db;
            this.spec = spec;
            this.app = app;
        }

        @Override
        public void phase(Phase from, Phase to) {
            clock.begin(to.label(), switch (to) {
                case EXPANDED -> "the driver applied the additive DDL (lock_timeout 2s, retried)";
                case SYNCING -> "cdc-bridge: slot and publication; sync covers the table before the first chunk reads";
                case BACKFILLING -> options.workers() + " workers copy the existing rows in checkpointed chunks";
                case BACKFILLED -> "reconciling both shapes in the database; " + INJECTED_DRIFT
                        + " rows are corrupted behind the sync's back first, to show detection and repair";
                case VERIFIED -> "waiting " + spec.readSwitch().cleanFor().toSeconds() + " s clean-for and a clean "
                        + "reconcile run since verification; then " + (writeSwitch()
                        ? "approving dual writes (as `run --yes`)" : "flipping flag " + spec.flagName() + " (as `run --yes`)");
                case DUAL_WRITES -> "the application writes both shapes; the old one stays authoritative and the sync "
                        + "records every key whose new shape differs from transform(old) before correcting it";
                case READS_SWITCHED -> writeSwitch() ? "flag " + spec.flagName() + " on: the application reads the new "
                        + "shape, still writing both" : "the application reads the new shape; it stops writing the old one; sync drains";
                case WRITES_SWITCHED -> "flag " + spec.writeFlagName() + " on: the application writes only the new shape; "
                        + "the reverse sync keeps the old one equal to reverse(new) (writes.reverse)";
                case CONTRACT_READY -> "evidence: nothing but Shapeshift touched the old shape for "
                        + spec.contract().quietPeriod().toSeconds() + " s (pg_stat_statements, by role); contracting"
                        + (writeSwitch() ? "; application writes pause for the independent check" : "");
                case CONTRACTED -> "old shape archived to shapeshift_archive and dropped; the driver cleans up";
                default -> "";
            });
            try {
                if (to == Phase.BACKFILLED && !injected) {
                    DemoDatabase.injectDrift(db, scenario, INJECTED_DRIFT);
                    injected = true;
                }
                if (to == Phase.VERIFIED) {
                    printEnforcement(db, spec);
                }
                if (writeSwitch()) {
                    writeSwitchStep(to);
                }
                if (to == Phase.CONTRACT_READY) {
                    printEvidence(db, spec.name());
                }
                if (to == (writeSwitch() ? Phase.CONTRACT_READY : Phase.READS_SWITCHED) && mismatches < 0) {
                    app.mode(AppLoad.Mode.READ_ONLY);
                    mismatches = DemoDatabase.awaitConverged(db, scenario, Duration.ofMinutes(2));
                    out.printf("    independent check: %d rows where the new shape != transform(old shape)%n", mismatches);
                }
                if (to == Phase.CONTRACT_READY && menu != null) {
                    menu.contractSinkFirst(spec.name(), Duration.ofMinutes(3));
                }
                if (to == Phase.WRITES_SWITCHED && menu != null) {
                    menu.stopReadingLabel();
                }
            } catch (java.sql.SQLException e) {
                throw new ShapeshiftException(ErrorCode.INTERNAL, "demo step at " + to + " failed: " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ShapeshiftException(ErrorCode.INTERNAL, "demo interrupted at " + to, e);
            }
        }

        /**
         * The application's side of the write switch: the rolling deploy of the version that
         * writes both shapes (one instance before dual writes are approved, the other a few
         * seconds into them, so the sync has old-shape-only writes to report), and the nightly
         * export that starts reading the old column once writes are switched.
         */
        private void writeSwitchStep(Phase to) throws java.sql.SQLException, InterruptedException {
            switch (to) {
                case VERIFIED -> {
                    app.deploy(0, AppLoad.Version.V2);
                    out.println("    rolling deploy: instance 1 of " + AppLoad.INSTANCES + " runs v2 (writes both shapes "
                            + "while flag " + spec.writeFlagName() + " is off, only the new one once it is on)");
                }
                case DUAL_WRITES -> {
                    Thread.sleep(ROLL_DELAY.toMillis());
                    app.deploy(1, AppLoad.Version.V2);
                    out.printf("    rolling deploy: instance 2 of %d kept running v1 into dual writes (until %d s after "
                            + "this demo saw the phase), then v2; its old-shape-only writes left the new shape stale: %d "
                            + "key(s) recorded as dual-write-mismatch so far; the gate wants writes.cleanFor (%d s) without one%n",
                            AppLoad.INSTANCES, ROLL_DELAY.toSeconds(), writeMismatches(db, spec.name()).size(),
                            spec.writes().cleanFor().toSeconds());
                }
                case WRITES_SWITCHED -> {
                    List<String> relaxed = relaxedNotNull(db, spec.name());
                    if (!relaxed.isEmpty()) {
                        out.println("    NOT NULL relaxed on " + relaxed + " (metadata only): the application's new "
                                + "inserts leave it to the reverse sync");
                    }
                    if (export == null) {
                        export = new NightlyExport(db, scenario);
                        export.start();
                        out.println("    a nightly export job (role demo_export) starts reading the old column "
                                + String.join(", ", scenario.oldColumns) + "; each value is checked against the new "
                                + "shape of the same row: old = reverse(new)");
                    }
                }
                case CONTRACT_READY -> stopExport("the export was still running when the contract gate opened");
                default -> {
                }
            }
        }

        /** Open drift is repaired by the operator, as `shapeshift reconcile run --repair` does; the driver re-verifies. */
        @Override
        public void tick(MigrationStatus s) {
            if (menu != null && s.phase() == Phase.BACKFILLED) {
                menu.resolveDuplicates(s);
            }
            if (menu != null) {
                menu.repairSinkDrift();
            }
            if (export != null && exportRunning && s.phase() == Phase.WRITES_SWITCHED) {
                watchExport(s);
            }
            long open = s.drift() == null ? 0 : s.drift().openTotal();
            if (open == 0 || s.phase().compareTo(Phase.CONTRACTED) >= 0) {
                return;
            }
            try {
                Repairer.RepairReport repair = repair(db, spec);
                driftRepaired += repair.resolved();
                out.printf("    %d drifted keys found by reconcile; repaired: %d refreshed, %d resolved, %d still different%n",
                        open, repair.refreshed(), repair.resolved(), repair.stillDifferent());
            } catch (java.sql.SQLException e) {
                log.warn("demo repair failed error={}", e.toString());
            }
        }
    }

    /**
     * The staged structure the driver enforced in backfilled, step by step as its audit log recorded
     * them (the finding query's count first), and the result read from pg_attribute / pg_index /
     * pg_constraint (docs/constraints.md).
     */
    private void printEnforcement(Database db, MigrationSpec spec) throws java.sql.SQLException {
        List<dev.shapeshift.spec.Structure.Item> items = dev.shapeshift.spec.Structure.items(spec);
        if (items.isEmpty()) {
            return;
        }
        out.println("    staged structure, enforced in backfilled (each statement lock-safe, its own transaction):");
        new Catalog(db, "demo").auditLog(spec.name(), 0, 1000).stream().filter(e -> e.action().startsWith("enforce "))
                .forEach(e -> out.println("      " + e.action()));
        List<String> state = new java.util.ArrayList<>();
        try (Connection c = db.connect("demo")) {
            for (dev.shapeshift.spec.Structure.Item i : items) {
                state.add(i.label() + (dev.shapeshift.spec.Structure.enforced(c, spec, i) ? " enforced" : " NOT enforced"));
            }
        }
        out.printf("    findings (violating rows) stored now: %d; the database says (pg_attribute, pg_index, pg_constraint): %s%n",
                new dev.shapeshift.catalog.FindingStore(new Catalog(db, "demo")).list(spec.name()).size(),
                String.join(", ", state));
    }

    /** Repairs the migration's open drift, as {@code shapeshift reconcile run --repair} does. */
    static Repairer.RepairReport repair(Database db, MigrationSpec spec) throws java.sql.SQLException {
        try (Connection c = db.connect("coordinator")) {
            ResolvedSpec resolved = SpecValidator.resolveExpanded(spec.name(), spec, c);
            return new Repairer(new Catalog(db, "demo"), resolved, new WorkerTransactions(WorkerTransactions.Policy.DEFAULT))
                    .repair(spec.name(), "cli:" + ACTOR, "demo: repair the drift the reconciliation found");
        }
    }

    /** How long the second application instance keeps running v1 into dual writes. */
    private static final Duration ROLL_DELAY = Duration.ofSeconds(2);
    /** How long the export runs at least before the team is shown stopping it. */
    private static final Duration EXPORT_AT_LEAST = Duration.ofSeconds(5);
    /** How long the export runs at most, should the gate never name it (the demo must end). */
    private static final Duration EXPORT_AT_MOST = Duration.ofSeconds(60);

    private NightlyExport export;
    private boolean exportRunning = true;
    private long exportStarted;

    private boolean writeSwitch() {
        return scenario.switchesWrites();
    }

    /**
     * While writes are switched: once the contract-ready gate names the export as a reader of the
     * old shape (and it ran {@link #EXPORT_AT_LEAST}), the team stops it; the gate's quiet period
     * then starts.
     */
    private void watchExport(MigrationStatus s) {
        if (exportStarted == 0) {
            exportStarted = System.nanoTime();
        }
        var gate = s.gates().stream().filter(g -> g.to() == Phase.CONTRACT_READY).findFirst();
        long ran = System.nanoTime() - exportStarted;
        if (ran > EXPORT_AT_MOST.toNanos()) {
            stopExport("the contract-ready gate did not name the export within " + EXPORT_AT_MOST.toSeconds()
                    + " s; stopped anyway");
            return;
        }
        if (gate.isEmpty() || gate.get().open() || ran < EXPORT_AT_LEAST.toNanos()) {
            return;
        }
        var named = gate.get().checks().stream().filter(c -> !c.passed() && c.evidence().contains("demo_export")).findFirst();
        if (named.isEmpty()) {
            return;
        }
        out.println("    FAIL " + named.get().name() + ": " + named.get().evidence().lines().findFirst().orElse(""));
        stopExport("the contract-ready gate names the export; the team moves it to the new column and stops it");
    }

    private void stopExport(String why) {
        if (export == null || !exportRunning) {
            return;
        }
        export.close();
        exportRunning = false;
        out.printf("    %s: %,d old-column values read, %,d equal to reverse(new) at once, %,d lagging the "
                + "application's write and equal on a re-read%s, %,d wrong%n", why, export.count(NightlyExport.Count.READS),
                export.count(NightlyExport.Count.CORRECT), export.count(NightlyExport.Count.LAGGED),
                export.count(NightlyExport.Count.GONE) == 0 ? ""
                        : String.format(", %,d deleted before the re-read", export.count(NightlyExport.Count.GONE)),
                export.count(NightlyExport.Count.WRONG));
    }

    private static List<String> relaxedNotNull(Database db, String migration) throws java.sql.SQLException {
        try (Connection c = db.connect("demo-check"); var ps = c.prepareStatement(
                "SELECT coalesce(array_to_string(relaxed_not_null, ','), '') FROM shapeshift.migration WHERE name = ?")) {
            ps.setString(1, migration);
            try (var rs = ps.executeQuery()) {
                rs.next();
                String v = rs.getString(1);
                return v.isEmpty() ? List.of() : List.of(v.split(","));
            }
        }
    }

    /** Keys recorded as dual-write-mismatch (single-column keys, as text). */
    private static List<String> writeMismatches(Database db, String migration) throws java.sql.SQLException {
        List<String> keys = new java.util.ArrayList<>();
        try (Connection c = db.connect("demo-check"); var ps = c.prepareStatement("SELECT key->>0 FROM "
                + "shapeshift.write_mismatch WHERE migration = ? AND kind = 'dual-write-mismatch'")) {
            ps.setString(1, migration);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(rs.getString(1));
                }
            }
        }
        return keys;
    }

    /**
     * What the contract gate saw, as `shapeshift evidence` prints it (the same code): one row per
     * evidence source that applies to this migration, then the readers by identity.
     */
    private void printEvidence(Database db, String migration) {
        AccessWatch watch = new AccessWatch(db);
        AccessReport r = watch.evaluate(migration);
        dev.shapeshift.launcher.EvidenceText.table(new java.io.PrintWriter(out, true), "    ", r, watch.checks(r));
    }

    /** The independent check after the contract, against the archived old shape. */
    private long contracted(Database db) throws java.sql.SQLException {
        long lost = DemoDatabase.count(db, scenario.mismatchAfterContractSql());
        out.printf("    independent check after the contract: %d rows where the new shape != transform(archived old shape)%n",
                lost);
        return lost;
    }

    private int report(Database db, MigrationSpec spec, AppLoad app, double bulkRate, Totals done, long lost)
            throws java.sql.SQLException {
        // The copy's own wall time, from the catalog: the first chunk's start to the last chunk's done
        // checkpoint. The demo's view of the phase is no measure: it polls every 2 s, and a backfill of
        // one chunk can start and end between two polls (a rate of millions of rows/s was printed).
        long copyMillis = DemoDatabase.count(db, "SELECT coalesce((extract(epoch FROM max(heartbeat_at) - min(started_at)) "
                + "* 1000)::bigint, 0) FROM shapeshift.chunk WHERE migration = '" + spec.name().replace("'", "''") + "'");
        double seconds = copyMillis / 1000.0;
        clock.end();
        summary.add("backfill rows copied", String.format("%,d in %d chunks", done.rowsCopied(), done.chunks()));
        if (copyMillis > 0) {
            double rate = done.rowsCopied() / seconds;
            summary.add("backfill rate (first chunk started → last done)", String.format("%,.0f rows/s over %.1f s", rate, seconds))
                    .add("bulk baseline (one statement)", String.format("%,.0f rows/s", bulkRate))
                    .add("backfill / bulk ratio", String.format("%.2f", rate / bulkRate));
        } else {
            summary.add("backfill rate", "not measured (no chunk start and end recorded)");
        }
        // Why the two figures below can differ from `bench backfill` (no bridge there): every row the
        // backfill writes that the bridge decodes (filter off, or PostgreSQL before 16) is dropped as
        // an echo only after decoding; the slot-lag throttle holds the backfill meanwhile, and the
        // application's changes queue behind it (docs/performance.md, goal 1).
        double echoes = registry.find("shapeshift.bridge.events.suppressed").counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
        // Sync, reverse sync and repairs also write marked transactions: a count well below the
        // backfill's rows means the origin filter kept the backfill's rows from being decoded.
        summary.add("bridge: echo events decoded, then dropped", String.format("%,.0f (rows the backfill wrote: %,d)",
                echoes, done.rowsWritten()));
        summary
                .add("drift injected / found / repaired", INJECTED_DRIFT + " / " + driftFound + " / " + driftRepaired)
                .add("application writes / failed statements", app.count(AppLoad.Count.WRITES) + " / " + app.count(AppLoad.Count.FAILURES));
        boolean exportWrong = false;
        if (writeSwitch()) {
            List<String> keys = writeMismatches(db, spec.name());
            long notV1 = keys.stream().filter(k -> !app.v1Keys().contains(Long.parseLong(k))).count();
            summary.add("data writes: v1 old shape / v2 both / v2 new only", app.count(AppLoad.Count.OLD_SHAPE_ONLY_WRITES)
                            + " / " + app.count(AppLoad.Count.BOTH_SHAPE_WRITES) + " / "
                            + app.count(AppLoad.Count.NEW_SHAPE_ONLY_WRITES))
                    .add("dual-write mismatches recorded", keys.size() + " keys, " + (notV1 == 0 ? "all" : "only "
                            + (keys.size() - notV1)) + " among keys v1 code wrote")
                    .add("reverse sync: old-shape rows written", String.format("%,.0f",
                            registry.find("shapeshift.sync.reverse.rows.written").tag("migration", spec.name())
                                    .counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum()));
            if (export != null) {
                summary.add("nightly export: old values read / correct", String.format("%,d / %,d (%,d after lagging)",
                        export.count(NightlyExport.Count.READS), export.count(NightlyExport.Count.CORRECT)
                                + export.count(NightlyExport.Count.LAGGED), export.count(NightlyExport.Count.LAGGED)));
                exportWrong = export.count(NightlyExport.Count.WRONG) > 0 || export.count(NightlyExport.Count.FAILURES) > 0;
            } else {
                summary.add("nightly export: old values read / correct", "not run");
            }
        }
        if (scenario.fallsBackToOldShape()) {
            summary.add("reads that fell back to the old shape", app.count(AppLoad.Count.FALLBACK_READS) + " of "
                    + app.count(AppLoad.Count.NEW_SHAPE_READS));
        }
        if (menu != null) {
            try {
                menu.report(summary, Duration.ofSeconds(180));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // The sink's own lag: source commit -> applied in the translation service, the same timer as the sync's.
            summary.add(MenuService.SINK_MIGRATION + ": sink apply latency p50 / p99",
                    DemoMetrics.latency(registry, MenuService.SINK_MIGRATION));
        }
        summary
                .add("sync apply latency p50 / p99", DemoMetrics.latency(registry, spec.name()))
                .add("independent check: mismatched rows", Long.toString(mismatches))
                .add("after contract: rows lost or wrong", Long.toString(lost))
                .phases(clock.durations());
        summary.print(out);
        if (mismatches != 0 || lost != 0 || app.count(AppLoad.Count.FAILURES) != 0 || exportWrong || (menu != null && !menu.ok())) {
            out.println("FAILED: target != transform(source), data lost at the contract, application statements failed, "
                    + "the nightly export read a wrong old value, or the translation service did not hold every label");
            return ErrorCode.INTERNAL.exitCode();
        }
        out.println("OK: target = transform(source), checked by an independent query, before and after the contract");
        return 0;
    }

    private static void awaitShutdown() throws InterruptedException {
        java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "demo-stop"));
        stop.await();
    }
}
