package dev.shapeshift.coordinator.gate;

import dev.shapeshift.phase.PhasePlan;
import java.util.Optional;
import java.util.stream.Collectors;

import dev.shapeshift.catalog.StreamState;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.DurationText;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The evidence each transition needs, as a pure function of {@link Evidence}. Moves that undo a
 * step (rollback, reads back to verified, verified back to backfilled, contract-ready back to
 * reads-switched) need none: undoing must always be possible, and fast.
 *
 * <p>Why one class of ~380 lines: one short pure method per check, and every gate's list of checks
 * in one place, as docs/phases.md lists them; a reader of a gate needs all of its checks at once.
 */
public final class Gates {
    private final ContractGate contract;

    public Gates(ContractGate contract) {
        this.contract = contract;
    }

    public Gates() {
        this(ContractGate.DEFAULT);
    }

    public GateReport evaluate(Evidence e, Phase to) {
        Phase from = e.phase();
        List<Check> checks = new ArrayList<>();
        if (!from.canMoveTo(to)) {
            checks.add(Check.fail("legal-move", "the phase machine has no move " + from + " -> " + to
                    + "; from " + from + " it can move to " + from.next()));
            return new GateReport(e.migration(), from, to, checks);
        }
        PhasePlan plan = e.plan();
        if (backward(from, to, plan)) {
            checks.add(Check.pass("undo", from + " -> " + to + " undoes a step; always allowed before contracted"
                    + (from == Phase.WRITES_SWITCHED || from == Phase.CONTRACT_READY && plan.switchesWrites()
                    ? " (the write flag goes off; the reverse sync keeps running until applications have seen it "
                    + "and it has caught up, then the forward sync takes over)" : "")));
            return new GateReport(e.migration(), from, to, checks);
        }
        Optional<Phase> next = plan.next(from);
        if (plan.contains(from) && (next.isEmpty() || next.get() != to)) {
            checks.add(Check.fail("order", "this migration's order is " + plan.order().subList(
                    plan.order().indexOf(Phase.VERIFIED), plan.order().size()).stream().map(Phase::label)
                    .collect(Collectors.joining(" → ")) + (plan.switchesWrites() ? " (writes.switch: true, writes.order: "
                    + (plan.order().indexOf(Phase.DUAL_WRITES) < plan.order().indexOf(Phase.READS_SWITCHED)
                    ? "dual-writes-first" : "reads-first") + ")" : " (no write switch: writes.switch is false)")
                    + "; from " + from + " the next step is " + next.map(Phase::label).orElse("none")));
            return new GateReport(e.migration(), from, to, checks);
        }
        switch (to) {
            case EXPANDED -> checks.add(newShape(e));
            case SYNCING, BACKFILLING -> checks.add(streaming(e));
            case BACKFILLED -> checks.add(backfillDone(e));
            case VERIFIED -> {
                checks.add(backfillDone(e));
                checks.add(streams(e));
                checks.add(lag(e));
                checks.add(reconciledAfterBackfill(e));
                checks.add(noOpenDrift(e));
                checks.add(structure(e));
            }
            case READS_SWITCHED, DUAL_WRITES -> {
                if (from == Phase.VERIFIED) {
                    boolean held = e.inPhase().compareTo(e.cleanFor()) >= 0;
                    checks.add(Check.of("clean-for", held, "verified for " + format(e.inPhase()) + " of "
                            + DurationText.format(e.cleanFor()) + " clean-for"));
                    checks.add(streams(e));
                    checks.add(lag(e));
                    checks.add(reconciledSinceVerified(e));
                    checks.add(noOpenDrift(e));
                } else {
                    checks.addAll(switchChecks(e, from));
                }
            }
            case WRITES_SWITCHED -> {
                checks.addAll(switchChecks(e, from));
                checks.add(roundTrip(e));
            }
            case CONTRACT_READY -> {
                if (e.writes() != null && e.plan().writesNew(from)) {
                    checks.add(noOldShapeWrites(e));
                    if (e.writes().sequencesBehind() != null) {
                        checks.add(keySequences(e));
                    }
                }
                checks.addAll(contract.contractReady(e));
            }
            case CONTRACTED -> checks.addAll(contract.contract(e));
            default -> throw new IllegalStateException("no gate for " + to);
        }
        return new GateReport(e.migration(), from, to, checks);
    }

    /**
     * A step of the write switch after verified: leaving dual-writes needs a clean window and the
     * application's statements; every step needs the sync running, caught up and without drift.
     */
    private static List<Check> switchChecks(Evidence e, Phase from) {
        List<Check> out = new ArrayList<>();
        if (from == Phase.DUAL_WRITES) {
            out.add(dualWritesClean(e));
            out.add(statements(e));
        }
        out.add(streams(e));
        out.add(lag(e));
        out.add(noOpenDrift(e));
        return out;
    }

    /** Gates with a {@code sync-lag} check: only their transitions run the (waiting, writing) catch-up probe. */
    public static boolean checksLag(Phase to) {
        return to == Phase.VERIFIED || to == Phase.READS_SWITCHED || to == Phase.DUAL_WRITES
                || to == Phase.WRITES_SWITCHED;
    }

    /** Moves that give evidence up rather than claim more of it (in the phase order of a migration without a write switch). */
    static boolean backward(Phase from, Phase to) {
        return to == Phase.ROLLED_BACK || to.compareTo(from) < 0;
    }

    /** Moves that give evidence up rather than claim more of it, in this migration's phase order. */
    public static boolean backward(Phase from, Phase to, PhasePlan plan) {
        if (to == Phase.ROLLED_BACK) {
            return true;
        }
        if (plan.contains(from) && plan.contains(to)) {
            return plan.backward(from, to);
        }
        return to.compareTo(from) < 0;
    }

    /**
     * Dual writes ran for {@code writes.cleanFor} with no mismatch seen in that window: the
     * application's new code computes the new shape as the migration does, and no instance still
     * writes only the old shape.
     */
    private static Check dualWritesClean(Evidence e) {
        WriteEvidence w = e.writes();
        if (w == null || w.dualWritesSince() == null) {
            return Check.fail("dual-writes-clean", "the migration has not been in dual-writes");
        }
        Duration dual = Duration.between(w.dualWritesSince(), e.now());
        String window = "dual writes for " + format(dual) + " of " + DurationText.format(w.cleanFor()) + " (writes.cleanFor)";
        if (w.recentMismatches() > 0) {
            return Check.fail("dual-writes-clean", w.recentMismatches() + " key(s) whose new shape, as the application "
                    + "wrote it, differed from transform(old) within the last " + DurationText.format(w.cleanFor())
                    + " (" + w.totalMismatches() + " ever), e.g. " + String.join(", ", w.mismatchSample())
                    + ": the application's new code computes the new shape differently, or an instance still writes "
                    + "only the old shape (`shapeshift status " + e.migration() + "` lists them); " + window);
        }
        return Check.of("dual-writes-clean", dual.compareTo(w.cleanFor()) >= 0, window + ", 0 mismatches in that window"
                + (w.totalMismatches() > 0 ? " (" + w.totalMismatches() + " earlier)" : ""));
    }

    /**
     * After the write switch nothing writes only the old shape: an application instance still on the
     * old code would have its writes overwritten by the reverse sync, and lose them at the contract.
     */
    private static Check noOldShapeWrites(Evidence e) {
        return dev.shapeshift.coordinator.writes.OldShapeWrites.check(e.writes().oldShapeWrites(),
                e.writes().oldShapeChanges(), e.quietPeriod());
    }

    /**
     * Table mode after the write switch: the new table's key sequences are above every key of both
     * tables, or the application's next insert without a key collides (docs/phases.md, "Key sequences").
     */
    private static Check keySequences(Evidence e) {
        List<String> behind = e.writes().sequencesBehind();
        if (!behind.isEmpty()) {
            return Check.fail("key-sequences", String.join("; ", behind));
        }
        return Check.pass("key-sequences", "the new table's key sequences are above every key of both tables "
                + "(or the key has no sequence)");
    }

    /** pg_stat_statements shows the application's INSERT/UPDATE statements writing the new shape. */
    private static Check statements(Evidence e) {
        WriteEvidence w = e.writes();
        if (w == null) {
            return Check.fail("writes-new-shape", "no statement evidence read");
        }
        if (w.statements() == null) {
            return Check.pass("writes-new-shape", "not required (writes.statementEvidence: false): the clean dual-write "
                    + "window alone is the evidence");
        }
        WriteEvidence.Statements s = w.statements();
        if (!s.available()) {
            return Check.fail("writes-new-shape", s.detail());
        }
        if (s.writes().isEmpty()) {
            return Check.fail("writes-new-shape", s.detail() + ": deploy the application version that writes both shapes");
        }
        return Check.pass("writes-new-shape", "the application writes the new shape: " + s.writes().get(0)
                + (s.writes().size() > 1 ? " and " + (s.writes().size() - 1) + " more" : ""));
    }

    /** The reverse is a true inverse on the live rows; or, without one, the gate says rollback becomes impossible. */
    private static Check roundTrip(Evidence e) {
        WriteEvidence w = e.writes();
        if (w == null) {
            return Check.fail("round-trip", "no write-switch evidence read");
        }
        if (!w.reversible()) {
            return Check.pass("round-trip", "no reverse transforms (writes.reverse): after the write switch the old "
                    + "shape is no longer kept up to date, and a rollback after that point is impossible");
        }
        WriteEvidence.RoundTrip r = w.roundTrip();
        if (r == null) {
            return Check.fail("round-trip", "the round trip was not checked");
        }
        if (r.inProgress()) {
            return Check.fail("round-trip", "transform(reverse(new, old)) = new is being checked: " + r.rows()
                    + (r.failures().isEmpty() ? "" : ", offending keys so far " + String.join(", ", r.failures())));
        }
        if (r.error() != null) {
            return Check.fail("round-trip", "checking transform(reverse(new, old)) = new failed: " + r.error()
                    + "; fix writes.reverse");
        }
        if (!r.failures().isEmpty()) {
            return Check.fail("round-trip", "transform(reverse(new, old)) differs from new on " + r.rows() + ", e.g. keys "
                    + String.join(", ", r.failures()) + ": the reverse loses information the new shape holds; fix "
                    + "writes.reverse (keep what it cannot recompute from the current old columns)");
        }
        return Check.pass("round-trip", "transform(reverse(new, old)) = new on " + r.rows());
    }

    /** The expand really happened: the new columns or table exist as the spec describes them. */
    private static Check newShape(Evidence e) {
        Evidence.NewShape shape = e.newShape();
        if (shape == null) {
            return Check.fail("new-shape", "the new shape was not examined");
        }
        return Check.of("new-shape", shape.exists(), shape.detail());
    }

    private static Check streaming(Evidence e) {
        if (e.startLsn() == null) {
            return Check.fail("sync-started", "no start LSN recorded: the cdc-bridge has not created the slot "
                    + "and started streaming yet");
        }
        return Check.pass("sync-started", "sync streaming from slot " + e.slotName() + " since LSN " + e.startLsn());
    }

    private static Check backfillDone(Evidence e) {
        if (e.chunks() == 0) {
            return Check.fail("backfill-done", "no backfill plan: 0 chunks");
        }
        return Check.of("backfill-done", e.chunksDone() == e.chunks(),
                "backfill " + (e.chunksDone() == e.chunks() ? "done" : "not done") + ": " + e.chunksDone() + "/"
                        + e.chunks() + " chunks");
    }

    private static Check lag(Evidence e) {
        SyncLag l = e.lag();
        String max = DurationText.format(e.maxLag());
        if (l == null || l.lag() == null) {
            return Check.fail("sync-lag", "sync lag unknown or over " + max + ": " + (l == null ? "not probed" : l.detail()));
        }
        boolean ok = l.lag().compareTo(e.maxLag()) <= 0;
        return Check.of("sync-lag", ok, "sync lag " + format(l.lag()) + (ok ? " ≤ " : " > ") + max);
    }

    /**
     * Every sync stream runs: none stopped at a poison record or on an error, every partition has
     * one. Read from {@code shapeshift.sync_stream}, never from the slot (which keeps moving while
     * a stream is stopped).
     */
    static Check streams(Evidence e) {
        List<String> problems = new ArrayList<>();
        for (SyncStream s : e.streams()) {
            if (s.state() == StreamState.STOPPED_POISON) {
                String command = "shapeshift sync skip " + e.migration() + " " + s.stopPosition() + " --reason '<why>'";
                problems.add("partition " + s.partition() + " stopped at poison record, offset " + s.stopOffset()
                        + " (worker " + s.owner() + "): " + s.message()
                        + (s.message() != null && s.message().contains(command) ? "" : ". To skip that one record: "
                        + command));
            } else if (s.state() == StreamState.STOPPED_ERROR) {
                problems.add("partition " + s.partition() + " stopped on an error (worker " + s.owner() + "): "
                        + s.message());
            } else if (s.state() == StreamState.DEGRADED) {
                problems.add("partition " + s.partition() + " waits for its degraded sink (worker " + s.owner() + "): "
                        + s.message());
            }
        }
        if (e.streams().isEmpty()) {
            problems.add("no sync stream recorded for " + e.migration()
                    + ": no worker has consumed its changes; start workers for it");
        } else {
            problems.addAll(CatchUpProbe.missing(e.streams()));
        }
        if (!problems.isEmpty()) {
            return Check.fail("sync-streams", String.join("; ", problems));
        }
        return Check.pass("sync-streams", e.streams().size() + " sync streams running");
    }

    private static Check reconciledAfterBackfill(Evidence e) {
        ReconcileRun run = e.lastFullRun();
        if (run == null) {
            return Check.fail("reconciled", "no finished full reconcile run");
        }
        String ago = " finished " + format(Duration.between(run.finishedAt(), e.now())) + " ago";
        if (e.backfillFinishedAt() == null || run.startedAt().isBefore(e.backfillFinishedAt())) {
            return Check.fail("reconciled", "last full reconcile run #" + run.id() + ago
                    + " but started before the backfill finished; run one after it");
        }
        return Check.pass("reconciled", "last full reconcile run #" + run.id() + ago + " (started after the "
                + "backfill), " + run.rowsChecked() + " rows checked, " + run.driftFound() + " drift found");
    }

    /**
     * Reads switch only after a full reconcile run that started after the migration became
     * verified finished without drift. The run the verified gate saw is older than every change
     * since; a change the sync lost after it (issue 12: a refresh on a snapshot older than its
     * event looked right and committed its offset) would stay wrong, unseen, behind the switch.
     * A run re-checks a difference only after the sync applied past the moment it saw it, so a
     * lost change is reported as drift, never as lag. Until the coordinator reconciles
     * continuously, the operator starts this run ({@code shapeshift reconcile run}).
     */
    private static Check reconciledSinceVerified(Evidence e) {
        ReconcileRun run = e.lastFullRun();
        String how = "; one runs every reconcile.interval while the coordinator drives the migration, or run "
                + "`shapeshift reconcile run " + e.migration() + "`";
        if (run == null || e.phaseChangedAt() == null || run.startedAt().isBefore(e.phaseChangedAt())) {
            return Check.fail("reconciled-since-verified", "no full reconcile run started since the migration became "
                    + "verified" + (run == null ? "" : " (the last, #" + run.id() + ", started "
                    + format(Duration.between(run.startedAt(), e.phaseChangedAt())) + " before)") + how);
        }
        String seen = "full reconcile run #" + run.id() + " started " + format(Duration.between(e.phaseChangedAt(),
                run.startedAt())) + " after verified: " + run.rowsChecked() + " rows checked, " + run.driftFound()
                + " drift found";
        if (run.driftFound() > 0) {
            return Check.fail("reconciled-since-verified", seen + "; something wrote the new shape wrong after "
                    + "verification: repair it and wait for a clean run" + how);
        }
        return Check.pass("reconciled-since-verified", seen);
    }

    /** The staged structure is enforced (index valid, constraints validated, NOT NULL set) and no row violates it. */
    private static Check structure(Evidence e) {
        Evidence.Structure s = e.structure();
        if (s.findings() > 0) {
            return Check.fail("structure", s.findings() + " finding(s): rows violate the staged structure, nothing is "
                    + "enforced on top of them: " + s.summary() + "; fix the data");
        }
        if (!s.pending().isEmpty()) {
            return Check.fail("structure", "not enforced yet: " + String.join(", ", s.pending()));
        }
        return Check.pass("structure", "staged structure enforced (or none in the spec)");
    }

    private static Check noOpenDrift(Evidence e) {
        return Check.of("drift-open", e.openDrift() == 0, e.openDrift() + " open drift rows"
                + (e.openDrift() == 0 ? "" : "; repair them or wait for the reconciler to resolve them"));
    }

    /** {@code 0.3s}, {@code 42s}, {@code 4m12s}, {@code 3h05m}. */
    public static String format(Duration d) {
        long ms = Math.max(0, d.toMillis());
        if (ms < 10_000) {
            return String.format(java.util.Locale.ROOT, "%.1fs", ms / 1000.0);
        }
        long s = ms / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return (s / 60) + "m" + String.format(java.util.Locale.ROOT, "%02ds", s % 60);
        }
        return (s / 3600) + "h" + String.format(java.util.Locale.ROOT, "%02dm", (s % 3600) / 60);
    }
}
