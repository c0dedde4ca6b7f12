package dev.shapeshift.coordinator.drive;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.coordinator.drive.Step.Kind;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.refresh.SyncDirection;
import dev.shapeshift.spec.Approval;
import dev.shapeshift.spec.WriteOrder;
import dev.shapeshift.spec.Writes;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The driver's steps for a migration with a write switch. */
class WriteSwitchStepTest {
    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    private static final Snapshot.Run FRESH = new Snapshot.Run(10, "done", NOW.minusSeconds(50), NOW.minusSeconds(10));

    private static Snapshot state(Phase phase, WriteOrder order, Approval approval, SyncDirection direction, long drift) {
        PhasePlan plan = PhasePlan.of(new Writes(true, order, null, null, null, null, null, null));
        return SnapshotBuilder.builder().migration("users").phase(phase).phaseChangedAt(NOW.minusSeconds(60))
                .table("public.users").startLsn("0/1").switchApproval(approval).revertOnDrift(true)
                .contractApproval(Approval.MANUAL).reconcileInterval(Duration.ofMinutes(5)).chunks(10).chunksDone(10)
                .backfillFinishedAt(NOW.minusSeconds(300)).lastProgressAt(NOW.minusSeconds(300)).latestRun(FRESH)
                .latestDoneRun(FRESH).openDrift(drift).now(NOW).plan(plan).direction(direction)
                .indexesChecked(true).build();
    }

    private static Step choose(Snapshot s) {
        return NextStep.choose(s, Duration.ofMinutes(10));
    }

    @Test
    void afterVerifiedTheOperatorApprovesDualWritesThenReadsThenWrites() {
        Step verified = choose(state(Phase.VERIFIED, WriteOrder.DUAL_WRITES_FIRST, Approval.MANUAL, SyncDirection.FORWARD, 0));
        assertThat(verified.kind()).isEqualTo(Kind.WAIT);
        assertThat(verified.to()).isEqualTo(Phase.DUAL_WRITES);
        assertThat(verified.reason()).contains("deploy the application version that writes both shapes",
                "shapeshift phase advance users --to dual-writes");
        Step dual = choose(state(Phase.DUAL_WRITES, WriteOrder.DUAL_WRITES_FIRST, Approval.MANUAL, SyncDirection.FORWARD, 0));
        assertThat(dual.to()).isEqualTo(Phase.READS_SWITCHED);
        Step reads = choose(state(Phase.READS_SWITCHED, WriteOrder.DUAL_WRITES_FIRST, Approval.MANUAL, SyncDirection.FORWARD, 0));
        assertThat(reads.to()).isEqualTo(Phase.WRITES_SWITCHED);
        assertThat(reads.reason()).contains("the write switch");
        Step writes = choose(state(Phase.WRITES_SWITCHED, WriteOrder.DUAL_WRITES_FIRST, Approval.MANUAL, SyncDirection.REVERSE, 0));
        assertThat(writes.kind()).isEqualTo(Kind.ADVANCE);
        assertThat(writes.to()).isEqualTo(Phase.CONTRACT_READY);
    }

    @Test
    void readsFirstGoesToReadsThenDualWritesAndAutoApprovalMovesItself() {
        Step verified = choose(state(Phase.VERIFIED, WriteOrder.READS_FIRST, Approval.AUTO, SyncDirection.FORWARD, 0));
        assertThat(verified.kind()).isEqualTo(Kind.ADVANCE);
        assertThat(verified.to()).isEqualTo(Phase.READS_SWITCHED);
        Step reads = choose(state(Phase.READS_SWITCHED, WriteOrder.READS_FIRST, Approval.AUTO, SyncDirection.FORWARD, 0));
        assertThat(reads.to()).isEqualTo(Phase.DUAL_WRITES);
        Step dual = choose(state(Phase.DUAL_WRITES, WriteOrder.READS_FIRST, Approval.AUTO, SyncDirection.FORWARD, 0));
        assertThat(dual.to()).isEqualTo(Phase.WRITES_SWITCHED);
    }

    @Test
    void afterTheWriteSwitchWasUndoneTheDriverDrainsFirst() {
        Step drain = choose(state(Phase.READS_SWITCHED, WriteOrder.DUAL_WRITES_FIRST, Approval.MANUAL, SyncDirection.REVERSE, 0));
        assertThat(drain.kind()).isEqualTo(Kind.DRAIN_REVERSE);
        Step stillSwitched = choose(state(Phase.WRITES_SWITCHED, WriteOrder.DUAL_WRITES_FIRST, Approval.MANUAL,
                SyncDirection.REVERSE, 0));
        assertThat(stillSwitched.kind()).isNotEqualTo(Kind.DRAIN_REVERSE);
    }

    @Test
    void aNotNullRestoreThatFailedKeepsTheDriverDrainingUntilItPasses() {
        Snapshot s = state(Phase.READS_SWITCHED, WriteOrder.DUAL_WRITES_FIRST, Approval.MANUAL, SyncDirection.FORWARD, 0);
        Snapshot pending = s.withRelaxedNotNull(List.of("label"));
        assertThat(choose(pending).kind()).isEqualTo(Kind.DRAIN_REVERSE);
        assertThat(choose(s).kind()).as("nothing relaxed: no drain").isNotEqualTo(Kind.DRAIN_REVERSE);
    }

    @Test
    void driftRevertsReadsOnlyWhileTheOldShapeIsAuthoritative() {
        Step before = choose(state(Phase.READS_SWITCHED, WriteOrder.DUAL_WRITES_FIRST, Approval.MANUAL, SyncDirection.FORWARD, 3));
        assertThat(before.kind()).isEqualTo(Kind.REVERT_READS);
        Step after = choose(state(Phase.CONTRACT_READY, WriteOrder.DUAL_WRITES_FIRST, Approval.MANUAL, SyncDirection.REVERSE, 3));
        assertThat(after.kind()).isNotEqualTo(Kind.REVERT_READS);
    }
}
