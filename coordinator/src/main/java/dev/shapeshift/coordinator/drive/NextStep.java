package dev.shapeshift.coordinator.drive;

import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.Approval;
import dev.shapeshift.spec.DurationText;
import java.time.Duration;
import java.time.Instant;

/**
 * The driver's whole decision: a pure function of a migration's {@link Snapshot} to the one next
 * {@link Step}. Because it reads only durable state, a restarted coordinator (or a standby that
 * took over) picks the same step and continues where the last one stopped.
 */
public final class NextStep {
    private NextStep() {
    }

    /** @param stallAfter how long backfill or the wait for a bridge may show no progress before it is reported stalled */
    public static Step choose(Snapshot s, Duration stallAfter) {
        if (s.brownout() != null && s.brownout().running() && s.phase() != Phase.CONTRACT_READY) {
            return Step.of(Step.Kind.BROWNOUT_END, "the migration left contract-ready (now " + s.phase()
                    + "): brownout #" + s.brownout().id() + " ends, access to the old shape is restored");
        }
        String name = s.migration();
        return switch (s.phase()) {
            case PLANNED -> Step.of(Step.Kind.EXPAND, "apply the additive DDL and create the topics");
            case EXPANDED -> s.startLsn() != null
                    ? Step.advance(Phase.SYNCING, "sync covers every write from LSN " + s.startLsn())
                    : Step.waitFor(stalled(s.inPhase(), stallAfter) + "waiting for a cdc-bridge to capture " + s.table()
                            + " and record its start LSN (" + Gates.format(s.inPhase()) + " so far); start one: "
                            + "`shapeshift cdc-bridge --bootstrap …` for this database");
            case SYNCING -> Step.of(Step.Kind.PLAN_BACKFILL, "plan and publish the backfill chunks");
            case BACKFILLING -> backfilling(s, stallAfter);
            case BACKFILLED -> !s.indexesChecked() ? Step.of(Step.Kind.COMPACT_INDEXES, "backfilled: measure the "
                    + "written table's indexes against a one-pass build and rebuild the bloated ones concurrently")
                    : !s.structurePending().isEmpty() ? enforce(s) : reconcileDue(s, true)
                    ? reconcile(s, "")
                    : Step.advance(Phase.VERIFIED, "reconcile run #" + s.latestDoneRun().id()
                            + " after the backfill; gate open");
            case VERIFIED -> {
                Phase next = s.plan().next(Phase.VERIFIED).orElse(Phase.READS_SWITCHED);
                String approval = "verified; waiting for an operator to approve " + (next == Phase.DUAL_WRITES
                        ? "dual writes (deploy the application version that writes both shapes; switch.approval: manual): "
                        : "the read switch (switch.approval: manual): ")
                        + "`shapeshift phase advance " + name + " --to " + next + " --reason …`";
                boolean auto = s.switchApproval() == Approval.AUTO;
                // The next gate wants a clean run that started after verification: start one at once.
                if (reconcileDue(s, false) || noRunSince(s, s.phaseChangedAt())) {
                    yield reconcile(s, auto ? "" : "; " + approval);
                }
                yield auto ? Step.advance(next, "switch.approval: auto; gate open")
                        : Step.waitForGate(next, approval);
            }
            case DUAL_WRITES, WRITES_SWITCHED -> writeSwitch(s);
            case READS_SWITCHED -> {
                if (s.draining()) {
                    yield drain(s);
                }
                if (revert(s)) {
                    yield Step.of(Step.Kind.REVERT_READS, revertReason(s));
                }
                if (reconcileDue(s, false)) {
                    yield reconcile(s, "");
                }
                Phase next = s.plan().next(Phase.READS_SWITCHED).orElse(Phase.CONTRACT_READY);
                if (next == Phase.CONTRACT_READY) {
                    yield Step.advance(Phase.CONTRACT_READY, "no foreign access to the old shape for the quiet period");
                }
                yield switchApproval(s, next);
            }
            case CONTRACT_READY -> {
                if (revert(s) && !s.plan().writesNew(Phase.CONTRACT_READY)) {
                    yield Step.of(Step.Kind.REVERT_READS, revertReason(s));
                }
                Step brownout = brownout(s);
                if (brownout != null && (brownout.kind() == Step.Kind.BROWNOUT || !reconcileDue(s, false))) {
                    yield brownout;
                }
                String approval = "contract-ready; waiting for an operator to approve the contract, the one "
                        + "irreversible step (contract.approval: manual): `shapeshift contract " + name + " --reason …`";
                boolean auto = s.contractApproval() == Approval.AUTO;
                if (reconcileDue(s, false)) {
                    yield reconcile(s, auto ? "" : "; " + approval);
                }
                yield auto ? Step.of(Step.Kind.CONTRACT, "contract.approval: auto; contract gate open")
                        : Step.waitForGate(Phase.CONTRACTED, approval);
            }
            case CONTRACTED -> s.cleanedUp() ? Step.of(Step.Kind.DONE, "contracted and cleaned up")
                    : Step.of(Step.Kind.CLEANUP, "migration contracted: remove its capture path");
            case ROLLED_BACK -> Step.of(Step.Kind.DONE, "rolled back");
        };
    }

    /**
     * dual-writes and writes-switched (docs/phases.md, "The write switch"): drain first after an
     * undo; reconcile every interval; then the next move of the plan — an operator's approval for
     * the moves that need the application to change (or the driver's, with switch.approval: auto),
     * the quiet period for contract-ready.
     */
    private static Step writeSwitch(Snapshot s) {
        if (s.draining()) {
            return drain(s);
        }
        if (s.phase() == Phase.DUAL_WRITES && revert(s) && s.plan().readsNew(Phase.DUAL_WRITES)) {
            return Step.of(Step.Kind.REVERT_READS, revertReason(s));
        }
        if (reconcileDue(s, false)) {
            return reconcile(s, "");
        }
        Phase next = s.plan().next(s.phase()).orElse(Phase.CONTRACT_READY);
        if (next == Phase.CONTRACT_READY) {
            return Step.advance(Phase.CONTRACT_READY, "writes switched; no foreign access to the old shape for the "
                    + "quiet period");
        }
        return switchApproval(s, next);
    }

    private static Step switchApproval(Snapshot s, Phase next) {
        String what = switch (next) {
            case DUAL_WRITES -> "dual writes (deploy the application version that writes both shapes)";
            case READS_SWITCHED -> "the read switch";
            case WRITES_SWITCHED -> "the write switch (applications stop writing the old shape; the reverse sync keeps it)";
            default -> next.label();
        };
        if (s.switchApproval() == Approval.AUTO) {
            return Step.advance(next, "switch.approval: auto; gate open");
        }
        return Step.waitForGate(next, s.phase() + "; waiting for an operator to approve " + what
                + " (switch.approval: manual): `shapeshift phase advance " + s.migration() + " --to " + next
                + " --reason …`");
    }

    private static Step drain(Snapshot s) {
        return Step.of(Step.Kind.DRAIN_REVERSE, "the write switch was undone: the reverse sync keeps the old shape "
                + "up to date until applications have seen the write flag off and it has caught up, then the forward "
                + "sync takes over");
    }

    /**
     * contract-ready with a brownout in the spec: watch a running one (before any reconcile pass, so
     * that access comes back at once when it is due); start one when none passed since the migration
     * became contract-ready, a quiet period after a failed one; null when it passed (or none is asked for).
     */
    private static Step brownout(Snapshot s) {
        Snapshot.BrownoutState b = s.brownout();
        if (b == null) {
            return null;
        }
        if (b.running()) {
            return Step.of(Step.Kind.BROWNOUT, "brownout #" + b.id() + " running since " + b.startedAt());
        }
        if (b.window() == null) {
            return null;
        }
        boolean thisPhase = b.id() != null && s.phaseChangedAt() != null && !b.startedAt().isBefore(s.phaseChangedAt());
        if (thisPhase && "passed".equals(b.status())) {
            return null;
        }
        if (thisPhase && "aborted".equals(b.status())) {
            return Step.waitForGate(Phase.CONTRACTED, "brownout #" + b.id() + " was ended before its window was over; "
                    + "the driver does not start another by itself: `shapeshift brownout start " + s.migration()
                    + " --reason …` runs one again");
        }
        if (thisPhase && b.endedAt() != null && b.endedAt().plus(b.quietPeriod()).isAfter(s.now())) {
            return Step.waitForGate(Phase.CONTRACTED, "brownout #" + b.id() + " " + b.status() + "; the next one starts at "
                    + b.endedAt().plus(b.quietPeriod()) + ", a quiet period after it ended (`shapeshift evidence "
                    + s.migration() + "` names who failed)");
        }
        return Step.of(Step.Kind.BROWNOUT_START, "brownout (contract.brownout: " + DurationText.format(b.window())
                + ") before the contract");
    }

    private static Step backfilling(Snapshot s, Duration stallAfter) {
        if (s.chunks() == 0) {
            return Step.of(Step.Kind.PLAN_BACKFILL, "backfilling without a stored plan: plan and publish");
        }
        if (s.chunksDone() == s.chunks()) {
            return Step.advance(Phase.BACKFILLED, s.chunksDone() + "/" + s.chunks() + " chunks done");
        }
        String progress = "backfilling: " + s.chunksDone() + "/" + s.chunks() + " chunks done";
        if (s.paused()) {
            return Step.waitFor(progress + "; paused by an operator (`shapeshift backfill resume " + s.migration() + "`)");
        }
        if (s.retryRequested()) {
            return Step.of(Step.Kind.REPUBLISH_CHUNKS, "failed chunks retried by an operator; " + progress);
        }
        Instant last = s.lastProgressAt() != null ? s.lastProgressAt() : s.phaseChangedAt();
        Duration quiet = last == null ? Duration.ZERO : Duration.between(last, s.now());
        if (stalled(quiet, stallAfter).isEmpty()) {
            return Step.waitFor(progress);
        }
        return Step.of(Step.Kind.REPUBLISH_CHUNKS, "stalled: no chunk progressed for " + Gates.format(quiet)
                + " (not paused; tasks republished at most once per stall period; stall after " + DurationText.format(stallAfter) + "); " + progress + "; last chunk error: "
                + (s.lastChunkError() == null ? "none" : s.lastChunkError())
                + "; are workers running for this migration (`shapeshift worker --bootstrap …`)?");
    }

    /**
     * Enforce the staged structure; while rows violate it (findings), look again only every
     * {@code reconcile.interval}: each look scans the table.
     */
    private static Step enforce(Snapshot s) {
        String what = "staged structure not enforced yet: " + String.join(", ", s.structurePending());
        if (s.findings() > 0 && s.findingsAt() != null && s.findingsAt().plus(s.reconcileInterval()).isAfter(s.now())) {
            return Step.waitFor(what + "; " + s.findings() + " finding(s): rows violate it (`shapeshift status "
                    + s.migration() + "` lists their keys); fix the data, it is checked again every "
                    + DurationText.format(s.reconcileInterval()));
        }
        return Step.of(Step.Kind.ENFORCE, what + ": find violating rows, then enforce");
    }

    /**
     * A reconcile pass is due when none ran yet, the last one was left unfinished, (before
     * verified) none started after the backfill finished, or {@code reconcile.interval} passed
     * since the last one ended.
     */
    static boolean reconcileDue(Snapshot s, boolean needsRunAfterBackfill) {
        Snapshot.Run last = s.latestRun();
        if (last == null || last.unfinished() || last.finishedAt() == null) {
            return true;
        }
        Snapshot.Run done = s.latestDoneRun();
        if (needsRunAfterBackfill && (done == null
                || (s.backfillFinishedAt() != null && done.startedAt().isBefore(s.backfillFinishedAt())))) {
            return true;
        }
        return !last.finishedAt().plus(s.reconcileInterval()).isAfter(s.now());
    }

    /** No reconcile run started at or after {@code since} (e.g. since the migration became verified). */
    static boolean noRunSince(Snapshot s, Instant since) {
        Snapshot.Run last = s.latestRun();
        return since != null && (last == null || last.startedAt().isBefore(since));
    }

    private static Step reconcile(Snapshot s, String also) {
        Snapshot.Run last = s.latestRun();
        return Step.of(Step.Kind.RECONCILE, s.phase() + "; " + (last != null && last.unfinished()
                ? "continuing reconcile run #" + last.id() : "reconciling both shapes (every "
                + DurationText.format(s.reconcileInterval()) + ")") + also);
    }

    private static boolean revert(Snapshot s) {
        return s.revertOnDrift() && s.openDrift() > 0;
    }

    private static String revertReason(Snapshot s) {
        return "switch.revertOnDrift: " + s.openDrift() + " open drift row(s) confirmed by the continuous reconcile"
                + (s.latestRun() == null ? "" : " (latest run #" + s.latestRun().id() + ")")
                + " after the read switch; reads go back to the old shape";
    }

    private static String stalled(Duration quiet, Duration stallAfter) {
        return quiet.compareTo(stallAfter) >= 0 ? "stalled: " : "";
    }
}
