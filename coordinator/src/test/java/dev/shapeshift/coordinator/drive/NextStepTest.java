package dev.shapeshift.coordinator.drive;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.coordinator.drive.Step.Kind;
import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.Approval;
import java.time.Duration;
import java.util.List;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The driver's choice of the next step, as a pure function of the durable state. */
class NextStepTest {
    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    private static final Duration STALL = Duration.ofMinutes(10);
    private static final Instant BACKFILL_DONE = NOW.minusSeconds(300);
    private static final Snapshot.Run DONE_AFTER_BACKFILL =
            new Snapshot.Run(7, "done", BACKFILL_DONE.plusSeconds(5), NOW.minusSeconds(10));

    /** A migration in {@code phase} whose evidence is all there: 10/10 chunks, run #7 after the backfill, no drift. */
    private static Snapshot state(Phase phase) {
        return SnapshotBuilder.builder().migration("users").phase(phase).phaseChangedAt(NOW.minusSeconds(60))
                .table("public.users").startLsn("0/16B3748").switchApproval(Approval.MANUAL).revertOnDrift(true)
                .contractApproval(Approval.MANUAL).reconcileInterval(Duration.ofMinutes(5)).chunks(10).chunksDone(10)
                .backfillFinishedAt(BACKFILL_DONE).lastProgressAt(BACKFILL_DONE).latestRun(DONE_AFTER_BACKFILL)
                .latestDoneRun(DONE_AFTER_BACKFILL).now(NOW).indexesChecked(true).build();
    }

    /** Verified for 60 s, with run #10 started after verification (what the reads-switched gate wants). */
    private static final Snapshot.Run SINCE_VERIFIED = new Snapshot.Run(10, "done", NOW.minusSeconds(50), NOW.minusSeconds(10));

    private static Snapshot verified() {
        return runs(state(Phase.VERIFIED), SINCE_VERIFIED, SINCE_VERIFIED, 0);
    }

    private static Step choose(Snapshot s) {
        return NextStep.choose(s, STALL);
    }

    @Test
    void backfilledMeasuresTheIndexesOnceBeforeAnythingElse() {
        Snapshot s = state(Phase.BACKFILLED);
        Snapshot unchecked = s.withStructurePending(List.of("unique index x")).withIndexesChecked(false);
        assertThat(choose(unchecked).kind()).isEqualTo(Kind.COMPACT_INDEXES);
        assertThat(choose(s).kind()).as("checked: on to verified").isEqualTo(Kind.ADVANCE);
    }

    @Test
    void walksTheEarlyPhasesInTheOrderThatMakesItSafe() {
        assertThat(choose(state(Phase.PLANNED)).kind()).isEqualTo(Kind.EXPAND);
        assertThat(choose(state(Phase.EXPANDED))).extracting(Step::kind, Step::to).containsExactly(Kind.ADVANCE, Phase.SYNCING);
        assertThat(choose(state(Phase.SYNCING)).kind()).isEqualTo(Kind.PLAN_BACKFILL);
        assertThat(choose(state(Phase.BACKFILLING))).extracting(Step::kind, Step::to)
                .containsExactly(Kind.ADVANCE, Phase.BACKFILLED);
        assertThat(choose(state(Phase.BACKFILLED))).extracting(Step::kind, Step::to)
                .containsExactly(Kind.ADVANCE, Phase.VERIFIED);
    }

    @Test
    void waitsForTheBridgeAndSaysHowToStartOne() {
        Snapshot s = with(state(Phase.EXPANDED), null, 0, 0, null);
        Step step = choose(s);
        assertThat(step.kind()).isEqualTo(Kind.WAIT);
        assertThat(step.reason()).contains("waiting for a cdc-bridge to capture public.users").contains("shapeshift cdc-bridge")
                .doesNotContain("stalled");
        Snapshot long_ = s.withPhaseChangedAt(NOW.minus(STALL).minusSeconds(1));
        assertThat(choose(long_).reason()).startsWith("stalled: ");
    }

    @Test
    void backfillWithoutAPlanPlansAgainAndReportsProgressPauseAndStall() {
        assertThat(choose(with(state(Phase.BACKFILLING), "0/1", 0, 0, null)).kind()).isEqualTo(Kind.PLAN_BACKFILL);
        Snapshot running = with(state(Phase.BACKFILLING), "0/1", 10, 4, NOW.minusSeconds(5));
        assertThat(choose(running)).extracting(Step::kind, Step::reason).containsExactly(Kind.WAIT, "backfilling: 4/10 chunks done");
        Snapshot stuck = with(state(Phase.BACKFILLING), "0/1", 10, 4, NOW.minus(STALL).minusSeconds(1));
        assertThat(choose(stuck).reason()).startsWith("stalled: no chunk progressed for 10m01s").contains("last chunk error: none");
        assertThat(choose(stuck).kind()).as("a stalled backfill publishes its open chunks' tasks again")
                .isEqualTo(Kind.REPUBLISH_CHUNKS);
        Snapshot paused = stuck.withLastChunkError("lock timeout").withPaused(true);
        assertThat(choose(paused).reason()).contains("paused by an operator").doesNotContain("stalled");
    }

    @Test
    void reconcilesAfterTheBackfillBeforeClaimingVerified() {
        Snapshot.Run before = new Snapshot.Run(3, "done", BACKFILL_DONE.minusSeconds(60), NOW.minusSeconds(5));
        Snapshot s = runs(state(Phase.BACKFILLED), before, before, 0);
        assertThat(choose(s).kind()).as("a run that started before the backfill finished does not count").isEqualTo(Kind.RECONCILE);
        assertThat(choose(runs(state(Phase.BACKFILLED), null, null, 0)).kind()).isEqualTo(Kind.RECONCILE);
        Snapshot.Run stopped = new Snapshot.Run(8, "stopped", NOW.minusSeconds(30), null);
        Step resume = choose(runs(state(Phase.BACKFILLED), stopped, DONE_AFTER_BACKFILL, 0));
        assertThat(resume.kind()).isEqualTo(Kind.RECONCILE);
        assertThat(resume.reason()).contains("continuing reconcile run #8");
    }

    @Test
    void reconcilesContinuouslyOnTheSpecsInterval() {
        Snapshot.Run old = new Snapshot.Run(9, "done", NOW.minusSeconds(400), NOW.minusSeconds(301));
        assertThat(choose(runs(state(Phase.VERIFIED), old, old, 0)).kind()).isEqualTo(Kind.RECONCILE);
        assertThat(choose(runs(state(Phase.READS_SWITCHED), old, old, 0)).kind()).isEqualTo(Kind.RECONCILE);
        assertThat(choose(state(Phase.READS_SWITCHED))).extracting(Step::kind, Step::to)
                .containsExactly(Kind.ADVANCE, Phase.CONTRACT_READY);
    }

    @Test
    void verifiedStartsARunAtOnceWhenNoneStartedSinceVerification() {
        Step step = choose(state(Phase.VERIFIED)); // run #7 started before the migration became verified
        assertThat(step.kind()).isEqualTo(Kind.RECONCILE);
        assertThat(step.reason()).contains("shapeshift phase advance users --to reads-switched");
        assertThat(choose(verified()).kind()).isEqualTo(Kind.WAIT);
    }

    @Test
    void manualApprovalsWaitAndNameTheCommandThatGivesThem() {
        Step verified = choose(verified());
        assertThat(verified).extracting(Step::kind, Step::to).containsExactly(Kind.WAIT, Phase.READS_SWITCHED);
        assertThat(verified.reason()).contains("shapeshift phase advance users --to reads-switched --reason");
        Step ready = choose(state(Phase.CONTRACT_READY));
        assertThat(ready).extracting(Step::kind, Step::to).containsExactly(Kind.WAIT, Phase.CONTRACTED);
        assertThat(ready.reason()).contains("shapeshift contract users --reason");
    }

    @Test
    void autoApprovalsMakeTheMoveThemselves() {
        Snapshot auto = approvals(verified(), Approval.AUTO, Approval.AUTO);
        assertThat(choose(auto)).extracting(Step::kind, Step::to).containsExactly(Kind.ADVANCE, Phase.READS_SWITCHED);
        assertThat(choose(approvals(state(Phase.CONTRACT_READY), Approval.AUTO, Approval.AUTO)).kind())
                .isEqualTo(Kind.CONTRACT);
    }

    @Test
    void driftAfterTheReadSwitchFlipsReadsBackUnlessTheSpecSaysNot() {
        Snapshot drifted = runs(state(Phase.READS_SWITCHED), DONE_AFTER_BACKFILL, DONE_AFTER_BACKFILL, 3);
        Step revert = choose(drifted);
        assertThat(revert.kind()).isEqualTo(Kind.REVERT_READS);
        assertThat(revert.reason()).contains("3 open drift row(s)");
        assertThat(choose(runs(state(Phase.CONTRACT_READY), DONE_AFTER_BACKFILL, DONE_AFTER_BACKFILL, 3)).kind())
                .isEqualTo(Kind.REVERT_READS);
        Snapshot keep = drifted.withRevertOnDrift(false);
        assertThat(choose(keep).kind()).isNotEqualTo(Kind.REVERT_READS);
        assertThat(choose(runs(state(Phase.VERIFIED), SINCE_VERIFIED, SINCE_VERIFIED, 3)).kind())
                .as("before the switch drift only keeps the gate closed").isEqualTo(Kind.WAIT);
    }

    @Test
    void contractedIsCleanedUpOnceAndTerminalPhasesNeedNoDriver() {
        assertThat(choose(state(Phase.CONTRACTED)).kind()).isEqualTo(Kind.CLEANUP);
        Snapshot c = state(Phase.CONTRACTED);
        Snapshot cleaned = c.withCleanedUp(true);
        assertThat(choose(cleaned).kind()).isEqualTo(Kind.DONE);
        assertThat(choose(state(Phase.ROLLED_BACK)).kind()).isEqualTo(Kind.DONE);
    }

    @Test
    void backoffDoublesUpToItsCap() {
        Duration base = Duration.ofSeconds(1);
        Duration max = Duration.ofMinutes(5);
        assertThat(MigrationDriver.backoff(1, base, max)).isEqualTo(Duration.ofSeconds(1));
        assertThat(MigrationDriver.backoff(4, base, max)).isEqualTo(Duration.ofSeconds(8));
        assertThat(MigrationDriver.backoff(40, base, max)).isEqualTo(max);
    }

    @Test
    void expandFailuresNameTheFixBySqlState() {
        var spec = new dev.shapeshift.spec.SpecReader().read("users.yaml", UsersSpec.yaml("users"));
        assertThat(Expander.fix("42501", spec)).contains("GRANT CREATE ON SCHEMA public").contains("shapeshift plan users");
        assertThat(Expander.fix("55P03", spec)).contains("lock_timeout");
        assertThat(Expander.fix("08006", spec)).contains("unreachable");
    }

    /** {@code s} before any reconcile run, with this backfill progress. */
    private static Snapshot with(Snapshot s, String startLsn, int chunks, int done, Instant progress) {
        return s.withStartLsn(startLsn).withChunks(chunks).withChunksDone(done)
                .withBackfillFinishedAt(done == chunks && chunks > 0 ? BACKFILL_DONE : null).withLastProgressAt(progress)
                .withLatestRun(null).withLatestDoneRun(null);
    }

    private static Snapshot runs(Snapshot s, Snapshot.Run latest, Snapshot.Run latestDone, long drift) {
        return s.withLatestRun(latest).withLatestDoneRun(latestDone).withOpenDrift(drift);
    }

    private static Snapshot approvals(Snapshot s, Approval reads, Approval contract) {
        return s.withSwitchApproval(reads).withContractApproval(contract);
    }

    @Test
    void backfilledEnforcesTheStagedStructureFirstAndLooksAgainAtFindingsOnlyEveryInterval() {
        Snapshot s = state(Phase.BACKFILLED);
        Snapshot pending = structure(s, java.util.List.of("unique index users_slug_key"), 0, null);
        Step enforce = choose(pending);
        assertThat(enforce.kind()).isEqualTo(Kind.ENFORCE);
        assertThat(enforce.reason()).contains("unique index users_slug_key");

        Snapshot fresh = structure(s, java.util.List.of("unique index users_slug_key"), 3, NOW.minusSeconds(30));
        assertThat(choose(fresh).kind()).as("findings younger than reconcile.interval: wait").isEqualTo(Kind.WAIT);
        assertThat(choose(fresh).reason()).contains("3 finding(s)").contains("shapeshift status users");
        Snapshot stale = structure(s, java.util.List.of("unique index users_slug_key"), 3, NOW.minusSeconds(301));
        assertThat(choose(stale).kind()).isEqualTo(Kind.ENFORCE);

        assertThat(choose(structure(s, java.util.List.of(), 0, null)).kind()).as("all enforced: on to verified")
                .isEqualTo(Kind.ADVANCE);
    }

    private static Snapshot structure(Snapshot s, java.util.List<String> pending, long findings, Instant at) {
        return s.withStructurePending(pending).withFindings(findings).withFindingsAt(at);
    }

    private static Snapshot brownout(Snapshot s, Snapshot.BrownoutState b) {
        return s.withBrownout(b);
    }

    private static Snapshot.BrownoutState brownoutState(Long id, String status, Instant started, Instant ended) {
        return new Snapshot.BrownoutState(Duration.ofMinutes(15), 1, Duration.ofHours(24), id, status, started, ended);
    }

    @Test
    void contractReadyRunsTheBrownoutBeforeTheContractAndWatchesItBeforeAnyReconcile() {
        Snapshot ready = approvals(state(Phase.CONTRACT_READY), Approval.AUTO, Approval.AUTO);
        assertThat(choose(brownout(ready, brownoutState(null, null, null, null))).kind()).isEqualTo(Kind.BROWNOUT_START);
        Snapshot running = brownout(ready, brownoutState(3L, "running", NOW.minusSeconds(5), null));
        assertThat(choose(running).kind()).isEqualTo(Kind.BROWNOUT);
        // even when a reconcile pass is due: access must come back on time
        Snapshot.Run old = new Snapshot.Run(9, "done", NOW.minusSeconds(900), NOW.minusSeconds(800));
        Snapshot due = brownout(runs(ready, old, old, 0), running.brownout());
        assertThat(choose(brownout(due, brownoutState(null, null, null, null))).kind())
                .as("a due reconcile pass goes before starting one").isEqualTo(Kind.RECONCILE);
        assertThat(choose(due).kind()).isEqualTo(Kind.BROWNOUT);
        assertThat(choose(brownout(ready, brownoutState(3L, "passed", NOW.minusSeconds(50), NOW.minusSeconds(1)))).kind())
                .as("passed in this phase: the contract goes on").isEqualTo(Kind.CONTRACT);
        assertThat(choose(brownout(ready, brownoutState(3L, "passed", NOW.minusSeconds(3600), NOW.minusSeconds(3000)))).kind())
                .as("passed before the migration became contract-ready again: another one").isEqualTo(Kind.BROWNOUT_START);
        Step failed = choose(brownout(ready, brownoutState(3L, "failed", NOW.minusSeconds(50), NOW.minusSeconds(40))));
        assertThat(failed.kind()).isEqualTo(Kind.WAIT);
        assertThat(failed.reason()).contains("brownout #3 failed").contains("next one starts at");
        Snapshot dayLater = ready.withPhaseChangedAt(NOW.minusSeconds(200_000))
                .withBrownout(brownoutState(3L, "failed", NOW.minusSeconds(100_000), NOW.minusSeconds(99_000)));
        assertThat(choose(dayLater).kind()).as("a quiet period after a failed one").isEqualTo(Kind.BROWNOUT_START);
        Step aborted = choose(brownout(ready, brownoutState(3L, "aborted", NOW.minusSeconds(50), NOW.minusSeconds(40))));
        assertThat(aborted.kind()).isEqualTo(Kind.WAIT);
        assertThat(aborted.reason()).contains("shapeshift brownout start users");
    }

    @Test
    void aBrownoutStillRunningOutsideContractReadyIsEndedAtOnce() {
        for (Phase p : new Phase[] {Phase.READS_SWITCHED, Phase.VERIFIED, Phase.ROLLED_BACK}) {
            Step s = choose(brownout(state(p), brownoutState(4L, "running", NOW.minusSeconds(5), null)));
            assertThat(s.kind()).as(p.toString()).isEqualTo(Kind.BROWNOUT_END);
            assertThat(s.reason()).contains("left contract-ready");
        }
    }
}
