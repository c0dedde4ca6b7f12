package dev.shapeshift.coordinator.drive;

import dev.shapeshift.coordinator.writes.WriteSwitch;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.contract.Brownout;
import dev.shapeshift.coordinator.contract.BrownoutReport;
import dev.shapeshift.coordinator.contract.Cleanup;
import dev.shapeshift.coordinator.contract.Contractor;
import dev.shapeshift.coordinator.gate.GateClosedException;
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.coordinator.plan.ChunkPlanner;
import dev.shapeshift.coordinator.plan.ChunkPublisher;
import dev.shapeshift.coordinator.reconcile.Reconciler;
import dev.shapeshift.coordinator.reconcile.RunStore.Run;
import dev.shapeshift.coordinator.reconcile.SyncProgress;
import dev.shapeshift.coordinator.stage.Enforcer;
import dev.shapeshift.catalog.FindingStore;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.ReplicationSlots;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecValidator;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one migration: each {@link #tick} reads its {@link Snapshot} from the catalog, lets
 * {@link NextStep} choose the one next step and takes it. Every step is idempotent (the plan is
 * stored once, the expand finds an existing shape, moves are compare-and-sets, the contract
 * returns the existing archive), so a coordinator killed mid-step, or a standby that takes over,
 * simply ticks again. A closed gate is waiting, written to the migration's message; a failing step
 * is written there and to the audit log with its error, and retried with back-off.
 *
 * <p>Why one class of ~390 lines: one short method per step kind {@link NextStep} can choose, each
 * calling the stores and the transitions; choosing is {@link NextStep} and reading is {@link
 * SnapshotReader}, so what is left here is the list of what a step does.
 */
final class MigrationDriver {
    private static final Logger log = LoggerFactory.getLogger(MigrationDriver.class);
    static final String ACTOR = "coordinator-driver";

    private final String migration;
    private final Database db;
    private final Catalog catalog;
    private final Transitions transitions;
    private final DriveConfig config;
    private final MeterRegistry registry;
    private final BooleanSupplier stop;
    private final SnapshotReader snapshots;
    private final Counter reverts;
    private final HaltPoint halt;
    private Reconciler reconciler;
    private int failures;
    private Instant notBefore = Instant.MIN;
    private Runnable beforeStep = () -> { };

    MigrationDriver(String migration, Database db, Transitions transitions, DriveConfig config, MeterRegistry registry,
                    BooleanSupplier stop, HaltPoint halt) {
        this.halt = halt;
        this.migration = migration;
        this.db = db;
        this.catalog = new Catalog(db, "coordinator");
        this.transitions = transitions;
        this.config = config;
        this.registry = registry;
        this.stop = stop;
        this.snapshots = new SnapshotReader(catalog);
        this.reverts = Counter.builder("shapeshift.driver.reverts").tag("migration", migration)
                .description("reads flipped back to the old shape by switch.revertOnDrift").register(registry);
    }

    /**
     * Calls {@code hook} between choosing a step and taking it (tests: an operator moves the
     * migration in that moment); returns this driver.
     */
    MigrationDriver beforeEachStep(Runnable hook) {
        this.beforeStep = java.util.Objects.requireNonNull(hook);
        return this;
    }

    /** When the next tick may run: now, or later while a failing step backs off. */
    Instant notBefore() {
        return notBefore;
    }

    /** Takes the next step; returns it (DONE when the migration needs no driver any more). */
    Step tick() {
        MigrationRecord m = catalog.get(migration);
        Snapshot s;
        try {
            s = snapshots.read(m);
        } catch (ShapeshiftException e) {
            return unreadable(m, e);
        }
        halt.inPhase(s.phase(), migration);
        Step step = NextStep.choose(s, config.stallAfter());
        beforeStep.run();
        try {
            take(m, s, step);
            failures = 0;
            notBefore = Instant.MIN;
        } catch (GateClosedException e) {
            failures = 0;
            say(s, "waiting for the " + e.report().to() + " gate: " + failedChecks(e.report()) + repairHint(s)
                    + (step.kind() == Step.Kind.CONTRACT ? " (contract.approval: auto: the driver contracts when it opens)" : ""));
        } catch (ShapeshiftException e) {
            fail(s, step, e);
        }
        return step;
    }

    /** The state could not be read (e.g. a stored spec that no longer parses): say so, back off, try again. */
    private Step unreadable(MigrationRecord m, ShapeshiftException e) {
        failures++;
        Duration backoff = backoff(failures, config.tick(), config.maxBackoff());
        notBefore = Instant.now().plus(backoff);
        String message = "the driver cannot read this migration's state (" + e.code() + "): " + e.getMessage()
                + "; retrying in " + dev.shapeshift.coordinator.gate.Gates.format(backoff);
        log.warn("driver cannot read migration state migration={} code={} error={}", migration, e.code(), e.getMessage());
        if (!sameError(m.message(), message)) {
            catalog.setMessage(migration, message);
        }
        return Step.waitFor(message);
    }

    private void take(MigrationRecord m, Snapshot s, Step step) {
        switch (step.kind()) {
            case EXPAND -> expand(m);
            case ADVANCE -> transitions.advance(migration, step.to(), ACTOR, step.reason());
            case PLAN_BACKFILL -> planBackfill(m, s);
            case REPUBLISH_CHUNKS -> republish(s, step.reason());
            case COMPACT_INDEXES -> compactIndexes(m, s);
            case ENFORCE -> enforce(m, s);
            case RECONCILE -> reconcile(m, s, step.reason());
            case REVERT_READS -> revert(s, step.reason());
            case DRAIN_REVERSE -> say(s, WriteSwitch.drain(db, m, DRAIN_PROBE_WAIT).orElse(step.reason()));
            case BROWNOUT_START -> startBrownout(s, step.reason());
            case BROWNOUT -> watchBrownout(m, s);
            case BROWNOUT_END -> say(s, new Brownout(db).end(migration, ACTOR, step.reason(), false).summary());
            case CONTRACT -> new Contractor(db, transitions).contract(migration, ACTOR, step.reason());
            case CLEANUP -> cleanup();
            case WAIT -> say(s, step.to() == null ? step.reason() : step.reason() + "; " + gate(step.to()));
            case DONE -> { }
            default -> throw new IllegalStateException("no handler for " + step.kind());
        }
    }

    /** Starts the brownout only when every other check of the contract gate passes: locking out known readers tests nothing. */
    private void startBrownout(Snapshot s, String reason) {
        GateReport r = transitions.check(migration, Phase.CONTRACTED);
        List<dev.shapeshift.coordinator.gate.Check> others = r.failed().stream()
                .filter(c -> !c.name().equals("brownout")).toList();
        if (!others.isEmpty()) {
            say(s, "contract-ready; the " + reason + " waits for the other contract checks: " + others.stream()
                    .map(c -> c.name() + " (" + c.evidence() + ")").collect(Collectors.joining("; ")));
            return;
        }
        BrownoutReport b = new Brownout(db).start(migration, ACTOR);
        say(s, b.summary());
    }

    /** Collects the failures of a running brownout and restores access when it is due (window over, or enough failures). */
    private void watchBrownout(MigrationRecord m, Snapshot s) {
        Brownout brownout = new Brownout(db);
        BrownoutReport b = brownout.watch(migration);
        String due = b == null ? null : Brownout.due(b, s.brownout().abortAfter());
        if (due != null) {
            b = brownout.end(migration, ACTOR, due, !b.now().isBefore(b.endsAt()));
        }
        if (b != null) {
            say(s, b.summary());
        }
    }

    private void expand(MigrationRecord m) {
        MigrationSpec spec = SpecJson.read(m.specJson());
        List<String> applied = new Expander(db).expand(spec);
        halt.reached(HaltPoint.Kind.EXPAND_DDL, migration);
        Topics.ensure(config.bootstrapServers(), Map.of(Topics.changes(migration), config.partitions(),
                Topics.chunks(migration), config.partitions()), config.replication());
        transitions.advance(migration, Phase.EXPANDED, ACTOR, (applied.isEmpty() ? "new shape already present"
                : applied.size() + " DDL statement(s) applied") + "; topics ensured with " + config.partitions()
                + " partitions");
    }

    private void enforce(MigrationRecord m, Snapshot s) {
        Enforcer.Result r = new Enforcer(db, LockSafeDdl.of(db, "coordinator")).run(migration, resolved(m));
        say(s, r.done() ? "staged structure enforced: " + String.join(", ", r.enforced())
                : "waiting: rows violate the staged structure, nothing is enforced on top of them: "
                + FindingStore.summary(r.findings()) + " — fix the data (keys: `shapeshift status " + migration
                + "`); checked again every " + dev.shapeshift.spec.DurationText.format(s.reconcileInterval()));
    }

    /**
     * The index step after the backfill (docs/phases.md): the written table's B-tree indexes measured
     * against a one-pass build, those above {@code reindex-above-pct} rebuilt concurrently; audited
     * (the audit entry marks the step done), and said in the migration's message.
     */
    private void compactIndexes(MigrationRecord m, Snapshot s) {
        MigrationSpec spec = SpecJson.read(m.specJson());
        long pct = dev.shapeshift.catalog.Knob.REINDEX_ABOVE_PCT.whole(java.util.Map.of(
                dev.shapeshift.catalog.Knob.REINDEX_ABOVE_PCT.key(), catalog.setting(migration,
                        dev.shapeshift.catalog.Knob.REINDEX_ABOVE_PCT.key()).orElse("115")), 115);
        double threshold = pct / 100.0;
        List<dev.shapeshift.db.IndexCompactor.Index> done = dev.shapeshift.db.IndexCompactor.run(db, "coordinator",
                LockSafeDdl.of(db, "coordinator"), spec.targetSchema(), spec.targetTable(), threshold);
        String summary = spec.targetSchema() + "." + spec.targetTable() + " "
                + dev.shapeshift.db.IndexCompactor.summary(done, threshold);
        catalog.audit(migration, ACTOR, Step.INDEX_ACTION, summary);
        log.info("index step done migration={} rebuilt={} summary={}", migration,
                done.stream().filter(dev.shapeshift.db.IndexCompactor.Index::rebuilt).count(), summary);
        say(s, "backfilled; " + summary);
    }

    private void planBackfill(MigrationRecord m, Snapshot s) {
        List<Chunk> plan = new ChunkPlanner(new ChunkStore(catalog)).plan(resolved(m));
        halt.reached(HaltPoint.Kind.PLAN_STORED, migration);
        int published = new ChunkPublisher(config.bootstrapServers(), config.partitions()).publish(migration, plan);
        if (s.phase() == Phase.SYNCING) {
            transitions.advance(migration, Phase.BACKFILLING, ACTOR, plan.size() + " chunks planned, "
                    + published + " published");
        }
    }

    /**
     * A stalled backfill, or failed chunks an operator retried ({@code shapeshift backfill retry}): publish
     * the tasks of the chunks that are neither done nor failed again (a failed chunk waits for an operator's
     * retry). Audited; the audit's time counts as progress in the
     * next snapshot, so this happens at most once per {@code stallAfter} of silence.
     */
    private void republish(Snapshot s, String stall) {
        List<Chunk> open = new ChunkStore(catalog).chunks(migration).stream()
                .filter(c -> !c.done() && !"failed".equals(c.status())).toList();
        if (open.isEmpty()) {
            if (s.retryRequested()) {
                // Retried chunks that failed again before this tick: record the answer so the request is spent.
                catalog.audit(migration, ACTOR, SnapshotReader.REPUBLISH_ACTION, "0 tasks published: the retried "
                        + "chunks failed again before the driver published them");
            }
            say(s, stall);
            return;
        }
        int sent = new ChunkPublisher(config.bootstrapServers(), config.partitions()).publish(migration, open);
        String numbers = open.stream().map(c -> Integer.toString(c.number())).collect(Collectors.joining(", "));
        catalog.audit(migration, ACTOR, SnapshotReader.REPUBLISH_ACTION, sent + " task(s) of chunk(s) " + numbers
                + " published again after " + stall.substring(0, stall.indexOf(';')));
        log.warn("chunk tasks published again migration={} chunks=[{}] why={}", migration, numbers,
                s.retryRequested() ? "operator retry" : "stalled");
        say(s, stall + "; published the tasks of chunk(s) " + numbers + " again" + (s.retryRequested() ? ""
                : " (a lost task: are two deployments sharing this migration's name on one Kafka cluster?)"));
    }

    private void reconcile(MigrationRecord m, Snapshot s, String reason) {
        if (reconciler == null) {
            ResolvedSpec resolved = resolved(m);
            SyncProgress sync = m.slotName() == null ? SyncProgress.NO_SYNC : SyncProgress.slot(db, m.slotName());
            reconciler = new Reconciler(catalog, migration, resolved, sync, registry,
                    Reconciler.Options.from(resolved.spec().reconcile()))
                    .afterEachRange(() -> halt.reached(HaltPoint.Kind.RECONCILE_RANGE, migration));
        }
        // The step was chosen from a snapshot, and an operator may have moved the migration since (the
        // contract drops the old shape a pass reads): a pass for a phase that is gone does not start,
        // and one the move overtook ends without a failure. The next tick chooses again.
        Phase now = catalog.get(migration).phase();
        if (now != s.phase()) {
            log.info("reconcile skipped: the migration moved since the step was chosen migration={} from={} to={}",
                    migration, s.phase(), now);
            return;
        }
        say(s, reason);
        Run run;
        try {
            run = reconciler.runOnce(stop);
        } catch (ShapeshiftException e) {
            Phase after = catalog.get(migration).phase();
            if (after == s.phase()) {
                throw e;
            }
            log.info("reconcile run ended: the migration moved to {} while it ran migration={} error={}", after,
                    migration, e.getMessage());
            return;
        }
        log.info("reconcile run ended migration={} run={} status={} rows_checked={} drift_found={}", migration,
                run.id(), run.status(), run.rowsChecked(), run.driftFound());
    }

    /** How long one drain step's catch-up probe may wait (the next tick tries again). */
    private static final Duration DRAIN_PROBE_WAIT = Duration.ofSeconds(5);

    /** Reads back to the last phase of the plan in which applications read the old shape. */
    private void revert(Snapshot s, String reason) {
        Phase p = s.phase();
        while (s.plan().readsNew(p)) {
            int i = s.plan().order().indexOf(p);
            Phase back = s.plan().order().get(i - 1);
            transitions.advance(migration, back, ACTOR, reason);
            p = back;
        }
        reverts.increment();
        log.error("reads flipped back on drift migration={} open_drift={} from={}", migration, s.openDrift(), s.phase());
    }

    private void cleanup() {
        Cleanup.Result r = new Cleanup(db, config.bootstrapServers(), config.publication(), ReplicationSlots::drop)
                .run(migration, ACTOR, "driver: migration contracted");
        String summary = "cleaned up: " + (r.done().isEmpty() ? "nothing" : String.join(", ", r.done()))
                + (r.left().isEmpty() ? "" : "; left: " + String.join(", ", r.left())
                + " (run `shapeshift cleanup " + migration + "` when that changes)");
        catalog.audit(migration, ACTOR, SnapshotReader.CLEANUP_ACTION, summary);
        catalog.setMessage(migration, "contracted; " + summary);
    }

    private String gate(Phase to) {
        GateReport r = transitions.check(migration, to);
        return r.open() ? "gate " + to + " open" : "gate " + to + " closed: " + failedChecks(r);
    }

    private ResolvedSpec resolved(MigrationRecord m) {
        MigrationSpec spec = SpecJson.read(m.specJson());
        try (Connection c = db.connect("coordinator")) {
            return SpecValidator.resolveExpanded(migration, spec, c);
        } catch (SQLException e) {
            throw SqlStates.translate("resolving the spec of " + migration, e);
        }
    }

    private void fail(Snapshot s, Step step, ShapeshiftException e) {
        failures++;
        Duration backoff = backoff(failures, config.tick(), config.maxBackoff());
        notBefore = Instant.now().plus(backoff);
        String message = step.kind().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " failed ("
                + e.code() + ", attempt " + failures + "): " + e.getMessage() + "; retrying in "
                + dev.shapeshift.coordinator.gate.Gates.format(backoff);
        log.warn("driver step failed migration={} step={} code={} attempt={} retry_in_ms={} error={}", migration,
                step.kind(), e.code(), failures, backoff.toMillis(), e.getMessage());
        try {
            if (!sameError(s.message(), message)) {
                catalog.audit(migration, ACTOR, "driver step failed: " + step.kind().name().toLowerCase(java.util.Locale.ROOT),
                        e.getMessage());
            }
            say(s, message);
        } catch (ShapeshiftException again) {
            log.warn("recording the failure failed migration={} error={}", migration, again.getMessage());
        }
    }

    /** Two failure messages differ only in the attempt count and the retry delay: audit once per distinct error. */
    private static boolean sameError(String previous, String next) {
        return previous != null && strip(previous).equals(strip(next));
    }

    private static String strip(String message) {
        return message.replaceAll("attempt \\d+", "").replaceAll("; retrying in \\S+$", "");
    }

    static Duration backoff(int failures, Duration base, Duration max) {
        long factor = 1L << Math.min(failures - 1, 20);
        Duration d = base.multipliedBy(factor);
        return d.compareTo(max) > 0 ? max : d;
    }

    /**
     * Writes what the migration waits for. The message is the driver's (it rewrites it every tick
     * while it waits), so what others report through it — a sync stream stopped at a poison record
     * or on an error (workers), a sync the bridge stopped because the source table changed — is read
     * from where they store it durably and kept in the message, instead of being overwritten within
     * a second.
     */
    private void say(Snapshot s, String message) {
        String full = message + alerts();
        if (!full.equals(s.message())) {
            catalog.setMessage(migration, full);
        }
    }

    /** {@code "; sync stopped: partition 2 at offset 17: …"} for every stopped stream and bridge stop; "" when none. */
    private String alerts() {
        return catalog.inTransaction("reading the sync alerts of " + migration, c -> {
            StringBuilder b = new StringBuilder();
            for (dev.shapeshift.catalog.SyncStream st : dev.shapeshift.catalog.SyncStreamStore.list(c, migration)) {
                if (st.state().stopped()) {
                    b.append("; sync stopped: partition ").append(st.partition())
                            .append(st.stopOffset() == null ? "" : " at offset " + st.stopOffset()).append(" (")
                            .append(st.state()).append(')').append(st.message() == null ? "" : ": " + st.message());
                }
            }
            try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT stop_reason FROM shapeshift.bridge_capture "
                    + "WHERE migration = ? AND stopped_at IS NOT NULL");) {
                ps.setString(1, migration);
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        b.append("; ").append(rs.getString(1));
                    }
                }
            }
            return b.toString();
        });
    }

    private static String failedChecks(GateReport r) {
        return r.failed().stream().map(c -> c.name() + " (" + c.evidence() + ")").collect(Collectors.joining("; "));
    }

    private String repairHint(Snapshot s) {
        return s.openDrift() == 0 ? "" : "; repair the drift: `shapeshift reconcile run " + migration + " --repair`";
    }
}
