package dev.shapeshift.scenarios;

import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.catalog.ChunkStore.Totals;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.catalog.SyncStreamStore;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.drive.DriveConfig;
import dev.shapeshift.coordinator.register.Registrar;
import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecReader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Runs one scenario as a script, top to bottom: a fresh database with {@code schema.sql}, the
 * preload, the migration registered through {@link Registrar} (what {@code shapeshift start}
 * does), a {@link Coordinator} with its driver on (in this JVM, the class a deployment runs) that
 * takes it through expand, sync, the chunk plan, backfill and reconcile with the production gates,
 * the cdc-bridge and the workers as child JVMs, the seeded application writing during sync and
 * backfill (and through the fault, if any), catch-up, and the independent check. The runner
 * decides nothing about the migration: it waits on the catalog for the phase a step needs.
 */
final class ScenarioRunner implements AutoCloseable {

    /** When a fault is injected. */
    enum Stage {
        /** while a backfill chunk is running and has copied rows */
        BACKFILL,
        /** after backfilled, while the application writes and sync applies */
        SYNC
    }

    /** A fault and how it measures its own recovery. */
    interface FaultAction {
        /** Injects the fault, waits for recovery, returns what happened (recovery time, notes). */
        FaultReport inject(ScenarioRunner run) throws Exception;
    }

    record Fault(String name, Stage stage, FaultAction action) {
    }

    record FaultReport(long recoveryMillis, String note) {
    }

    /** Everything a run measured. */
    record Outcome(String scenario, String migration, long seed, Phase phase, String message, Totals totals,
                   int extraAttempts, long transactions, long rowChanges, long appFailures, double backfillSeconds,
                   double catchUpSeconds, Checker.Result check, Optional<FaultReport> fault, List<String> chunkErrors) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "scenario=%s seed=%d phase=%s chunks=%d/%d extra_attempts=%d rows_copied=%d "
                            + "txs=%d row_changes=%d app_failures=%d backfill_s=%.1f catch_up_s=%.1f check=[%s]%s",
                    scenario, seed, phase.label(), totals.done(), totals.chunks(), extraAttempts, totals.rowsCopied(),
                    transactions, rowChanges, appFailures, backfillSeconds, catchUpSeconds, check,
                    fault.map(f -> " recovery_ms=" + f.recoveryMillis() + " " + f.note()).orElse(""));
        }
    }

    /** The coordinator's driver tick in scenarios (production default 1 s). */
    static final Duration DRIVER_TICK = Duration.ofMillis(200);

    final Scenario scenario;
    final Workload workload;
    final PostgresServer pg;
    final KafkaBroker kafka;
    final Database db;
    final MigrationSpec spec;
    /** The spec as registered: the scenario's {@code spec.yaml} under the run's name. */
    final String specYaml;
    final Catalog catalog;
    final ChunkStore chunks;
    final Stack stack;
    final Checker checker;
    final WriteLoad load;
    private volatile Coordinator coordinator;
    private final int workers;
    private final int bridges;
    private final int scale;
    private long probes;

    /**
     * @param scale   multiplies rows and durations ({@code -Dshapeshift.scale})
     * @param workers worker JVMs (at least 2)
     * @param bridges bridge JVMs (the first leads, the others stand by)
     */
    ScenarioRunner(Scenario scenario, PostgresServer pg, KafkaBroker kafka, int scale, int workers, int bridges,
                   Long seedOverride) throws Exception {
        this(scenario, pg, kafka, scale, workers, bridges, seedOverride, UnaryOperator.identity());
    }

    /** @param specEdit changes the scenario's {@code spec.yaml} text for this run (e.g. a reconcile pace) */
    ScenarioRunner(Scenario scenario, PostgresServer pg, KafkaBroker kafka, int scale, int workers, int bridges,
                   Long seedOverride, UnaryOperator<String> specEdit) throws Exception {
        this.scenario = scenario;
        Workload w = scenario.workload().scaled(scale);
        this.workload = seedOverride == null ? w : w.withSeed(seedOverride);
        this.pg = pg;
        this.kafka = kafka;
        this.workers = workers;
        this.bridges = bridges;
        this.scale = scale;
        String base = scenario.name().replaceAll("[^a-z0-9-]", "-");
        String name = base.substring(0, Math.min(base.length(), 30)) + "-"
                + Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
        this.db = new Database(pg.jdbcUrl(pg.createDatabase("sc_" + base.replace('-', '_'))), pg.user(), pg.password());
        String nameLine = "name: " + scenario.name() + "\n";
        if (!scenario.specYaml().contains(nameLine)) {
            throw new IllegalArgumentException(scenario.name() + "/spec.yaml: its name must be the directory's, '"
                    + nameLine.strip() + "'");
        }
        this.specYaml = specEdit.apply(scenario.specYaml().replace(nameLine, "name: " + name + "\n"));
        this.spec = new SpecReader().read(scenario.name() + "/spec.yaml", specYaml);
        this.catalog = new Catalog(db, "scenario");
        this.chunks = new ChunkStore(catalog);
        this.stack = new Stack(db, kafka.bootstrapServers(), name.replace('-', '_'));
        this.checker = new Checker(db, scenario, spec);
        this.load = new WriteLoad(db, workload);
    }

    Outcome run(Fault fault) throws Exception {
        long started = System.nanoTime();
        try (Connection c = db.connect("setup"); Statement s = c.createStatement()) {
            s.execute(scenario.schemaSql());
        }
        CatalogSchema.migrate(db);
        load.preload();
        sql("ANALYZE " + workload.table());

        Registration r = new Registrar(db, "scenario").register(scenario.name() + "/spec.yaml", spec, specYaml);
        if (r.outcome() != Registration.Outcome.CREATED) {
            throw new AssertionError("scenario " + scenario.name() + ": registration " + r.outcome() + ": " + r.message());
        }
        startCoordinator();
        stack.bridge("bridge1");
        // The driver expands and creates the topics. The workers start then, as pods start in any order: a
        // worker serves an expanded migration (its JVM start overlaps the bridge's), and no chunk exists
        // before the driver plans them in syncing.
        awaitPhase(Phase.EXPANDED, Duration.ofSeconds(180));
        for (int i = 1; i <= workers; i++) {
            stack.worker("w" + i, spec.name());
        }
        // The bridge records its start LSN; the driver moves to syncing. Standby bridges start once
        // bridge1 leads, so the one a fault kills is the leader.
        awaitPhase(Phase.SYNCING, Duration.ofSeconds(180));
        for (int i = 2; i <= bridges; i++) {
            stack.bridge("bridge" + i);
        }
        if (workload.durationSeconds() > 0) {
            load.start(); // durationSeconds 0: an idle table, only the bridge's heartbeats move the slot
        }
        long backfillStart = System.nanoTime();
        awaitPhase(Phase.BACKFILLING, Duration.ofSeconds(60)); // the driver planned and published the chunks
        Optional<FaultReport> report = Optional.empty();
        if (fault != null && fault.stage() == Stage.BACKFILL) {
            awaitRunningChunk();
            report = Optional.of(inject(fault));
        }
        boolean backfilled = awaitBackfilled(Duration.ofSeconds(240L * scale));
        double backfillSeconds = seconds(System.nanoTime() - backfillStart);
        if (fault != null && fault.stage() == Stage.SYNC) {
            Thread.sleep(2000);
            report = Optional.of(inject(fault));
        }
        long writeUntil = started + TimeUnit.SECONDS.toNanos(workload.durationSeconds());
        long atLeast = System.nanoTime() + TimeUnit.SECONDS.toNanos(fault == null ? 0 : 3);
        sleepUntil(Math.max(writeUntil, atLeast));
        load.close();

        long catchUpStart = System.nanoTime();
        Checker.Result check;
        if (scenario.expected().shouldConverge()) {
            if (!backfilled) {
                throw new AssertionError("scenario " + scenario.name() + " did not reach backfilled: "
                        + catalog.get(spec.name()).message() + " chunk errors " + chunkErrors());
            }
            List<List<String>> deleted = load.deletedKeys();
            check = awaitClean(deleted, Duration.ofSeconds(120L + 60L * scale));
        } else {
            check = checker.check(load.deletedKeys());
        }
        double catchUp = seconds(System.nanoTime() - catchUpStart);
        MigrationRecord m = catalog.get(spec.name());
        Totals totals = chunks.totals(spec.name());
        int extra = chunks.chunks(spec.name()).stream().mapToInt(ch -> Math.max(0, ch.attempts() - 1)).sum();
        Outcome o = new Outcome(scenario.name(), spec.name(), workload.seed(), m.phase(), m.message(), totals, extra,
                load.transactions(), load.rowChanges(), load.failures(), backfillSeconds, catchUp, check, report,
                chunkErrors());
        System.out.println("SCENARIO " + o);
        return o;
    }

    /**
     * Starts the coordinator with its driver on, as a deployment runs it ({@code shapeshift
     * coordinator --bootstrap …}): its API on a free port with {@link BadInput}'s tokens, the
     * driver with the stack's partitions and publication.
     */
    void startCoordinator() {
        if (coordinator != null) {
            throw new IllegalStateException("a coordinator is running already");
        }
        // A 200 ms tick instead of the default 1 s: the driver waits up to one tick before each step, and
        // scenarios take about ten steps; the steps themselves and their gates are the production ones.
        DriveConfig drive = DriveConfig.on(kafka.bootstrapServers(), Stack.PARTITIONS)
                .withPublication(stack.publication)
                .withTick(DRIVER_TICK);
        coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, BadInput.ADMIN, BadInput.READ,
                Duration.ofSeconds(1)).withDrive(drive), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                new AccessGate(new AccessWatch(db)));
    }

    /** Stops the coordinator (its driver stops a running step at its next checkpoint); idempotent. */
    void stopCoordinator() {
        Coordinator c = coordinator;
        coordinator = null;
        if (c != null) {
            c.close();
        }
    }

    Coordinator coordinator() {
        if (coordinator == null) {
            throw new IllegalStateException("no coordinator running");
        }
        return coordinator;
    }

    /** Stops every Shapeshift role: the coordinator and the child JVMs (nothing repairs behind a check's back). */
    void stopRoles() {
        stopCoordinator();
        stack.close();
    }

    /** Waits until the driver moved the migration to {@code phase} or past it (never rolled back). */
    void awaitPhase(Phase phase, Duration atMost) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> catalog.get(spec.name()).phase(),
                    p -> p != Phase.ROLLED_BACK && p.compareTo(phase) >= 0);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            MigrationRecord m = catalog.get(spec.name());
            throw new AssertionError("scenario " + scenario.name() + ": not " + phase.label() + " within "
                    + atMost.toSeconds() + "s; phase " + m.phase().label() + ", message: " + m.message() + "; logs "
                    + stack.logs().toAbsolutePath(), e);
        }
    }

    /** Polls the independent check until clean; on time-out fails with the last comparison. */
    private Checker.Result awaitClean(List<List<String>> deleted, Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        Checker.Result last = checker.check(deleted);
        while (!last.clean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("scenario " + scenario.name() + " seed " + workload.seed() + " did not converge within "
                        + atMost.toSeconds() + "s after the writes stopped: " + last + "; catalog message: "
                        + catalog.get(spec.name()).message() + "; logs " + stack.logs().toAbsolutePath());
            }
            Thread.sleep(500);
            last = checker.check(deleted);
        }
        return last;
    }

    private FaultReport inject(Fault fault) throws Exception {
        System.out.printf("FAULT %s at %s%n", fault.name(), fault.stage());
        FaultReport r = fault.action().inject(this);
        System.out.printf("FAULT %s recovered in %d ms: %s%n", fault.name(), r.recoveryMillis(), r.note());
        return r;
    }

    /**
     * Backfilled (the driver moved the migration there through the real gate), or false once a
     * chunk failed (the stop scenarios) or the time ran out.
     */
    private boolean awaitBackfilled(Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (System.nanoTime() < deadline) {
            Phase p = catalog.get(spec.name()).phase();
            if (p != Phase.ROLLED_BACK && p.compareTo(Phase.BACKFILLED) >= 0) {
                return true;
            }
            if (chunks.totals(spec.name()).failed() > 0 && !scenario.expected().shouldConverge()) {
                return false;
            }
            Thread.sleep(300);
        }
        return false;
    }

    /** The first chunk that is running and has copied rows (for mid-chunk faults). */
    Chunk awaitRunningChunk() {
        return await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50))
                .until(() -> chunks.chunks(spec.name()).stream()
                        .filter(c -> "running".equals(c.status()) && c.rowsCopied() > 0).findFirst(), Optional::isPresent)
                .orElseThrow();
    }

    /** The migration's sync streams as their owners last wrote them ({@code shapeshift.sync_stream}). */
    List<SyncStream> syncStreams() {
        return new SyncStreamStore(catalog).list(spec.name());
    }

    List<String> chunkErrors() {
        List<String> out = new ArrayList<>();
        for (Chunk c : chunks.chunks(spec.name())) {
            if (c.error() != null) {
                out.add("chunk " + c.number() + " (" + c.status() + "): " + c.error());
            }
        }
        return out;
    }

    /**
     * Recovery measurement: inserts {@code n} probe rows (retrying while the database is down) and
     * waits until the target shows transform() of every one; returns ms since {@code since}.
     */
    long probeRecovered(long since, int n, Duration atMost) {
        long first = probes + 1;
        probes += n;
        List<List<String>> keys = await().atMost(atMost).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .until(() -> insertProbes(first, n), k -> true);
        await().atMost(atMost).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> checker.allMatch(keys));
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
    }

    /**
     * Issue 12's window, held open: {@code n} probe rows inserted by a transaction whose commit
     * waits for a synchronous standby that does not exist ({@code synchronous_standby_names =
     * 'ghost'}; every other session commits with {@code synchronous_commit = local}), so their
     * change events are decoded and delivered while the rows are not visible yet. After
     * {@code hold} the setting is cleared and the commit completes; returns ms from the release
     * until the target shows every probe row (the sync must have waited for them, not skipped them).
     */
    long heldCommitRecovered(Duration hold, int n, Duration atMost) throws Exception {
        long first = probes + 1;
        probes += n;
        try {
            sql("ALTER SYSTEM SET synchronous_commit = 'local'");
            sql("ALTER SYSTEM SET synchronous_standby_names = 'ghost'");
            sql("SELECT pg_reload_conf()");
            CompletableFuture<List<List<String>>> commit = CompletableFuture.supplyAsync(() -> {
                try {
                    return insertProbes(first, n, "on");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> count(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") >= 1);
            Thread.sleep(hold.toMillis()); // the bridge publishes the held rows; the sync must wait for them
            if (commit.isDone()) {
                throw new IllegalStateException("the held commit completed before its release");
            }
            long released = System.nanoTime();
            sql("ALTER SYSTEM RESET synchronous_standby_names");
            sql("SELECT pg_reload_conf()");
            List<List<String>> keys = commit.get(30, TimeUnit.SECONDS);
            await().atMost(atMost).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                    .until(() -> checker.allMatch(keys));
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released);
        } finally {
            sql("ALTER SYSTEM RESET synchronous_standby_names");
            sql("ALTER SYSTEM RESET synchronous_commit");
            sql("SELECT pg_reload_conf()");
        }
    }

    /** One transaction of {@code n} probe rows with keys outside the workload's. */
    private List<List<String>> insertProbes(long first, int n) throws SQLException {
        return insertProbes(first, n, null);
    }

    private List<List<String>> insertProbes(long first, int n, String synchronousCommit) throws SQLException {
        KeyKind kind = workload.keyKind();
        List<List<String>> keys = new ArrayList<>();
        try (Connection c = db.connect("app"); PreparedStatement ps = c.prepareStatement("INSERT INTO " + workload.table()
                + " (" + String.join(", ", kind.names) + ", a, b, big) VALUES (" + kind.placeholders() + ", 7, 'probe', 'probe')")) {
            c.setAutoCommit(false);
            for (long id = first; id < first + n; id++) {
                List<String> key = kind.text(WriteLoad.PROBE_BASE + id);
                for (int i = 0; i < key.size(); i++) {
                    ps.setString(i + 1, key.get(i));
                }
                ps.addBatch();
                keys.add(key);
            }
            if (synchronousCommit != null) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET synchronous_commit = '" + synchronousCommit + "'");
                }
            }
            ps.executeBatch();
            c.commit();
        }
        return keys;
    }

    void sql(String statement) throws SQLException {
        try (Connection c = db.connect("setup"); Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    long count(String query) {
        return checker.count(query);
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long wait = nanoTime - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }

    @Override
    public void close() {
        load.close();
        stopRoles();
    }
}
