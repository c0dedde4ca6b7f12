package dev.shapeshift.coordinator.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.StreamState;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.phase.Phase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class GatesTest {
    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    private static final Instant BACKFILLED = NOW.minusSeconds(600);
    private static final List<SyncStream> STREAMS = List.of(stream(0, StreamState.RUNNING, null, null),
            stream(1, StreamState.RUNNING, null, null));
    private final Gates gates = new Gates();

    private static SyncStream stream(int partition, StreamState state, Long stopOffset, String message) {
        return new SyncStream("users", partition, "w" + partition, 2, state, 100L, "0/16B3748", NOW.minusSeconds(1),
                NOW, stopOffset, message, NOW);
    }

    private static Evidence withStreams(Evidence e, List<SyncStream> streams) {
        return new Evidence(e.migration(), e.phase(), e.phaseChangedAt(), e.now(), e.chunks(), e.chunksDone(),
                e.backfillFinishedAt(), e.slotName(), e.startLsn(), e.lag(), e.lastFullRun(), e.openDrift(), e.cleanFor(),
                e.maxLag(), e.quietPeriod(), streams);
    }

    @Test
    void aStreamStoppedAtAPoisonRecordClosesVerifiedAndReadsSwitchedNamingPartitionOffsetAndTheSkipCommand() {
        List<SyncStream> poisoned = List.of(stream(0, StreamState.RUNNING, null, null),
                stream(1, StreamState.STOPPED_POISON, 1042L, "sync stopped at an undecodable change record: bad json"));
        for (Phase[] move : new Phase[][] {{Phase.BACKFILLED, Phase.VERIFIED}, {Phase.VERIFIED, Phase.READS_SWITCHED}}) {
            GateReport r = gates.evaluate(withStreams(good(move[0], Duration.ofMinutes(10)), poisoned), move[1]);
            assertThat(r.failed()).extracting(Check::name).containsExactly("sync-streams");
            assertThat(r.summary()).contains("partition 1 stopped at poison record, offset 1042 (worker w1)")
                    .contains("bad json").contains("shapeshift sync skip users 1:1042 --reason");
        }
        // negative control: the same evidence with the stream running passes
        assertThat(gates.evaluate(good(Phase.BACKFILLED, Duration.ofMinutes(10)), Phase.VERIFIED).open()).isTrue();
    }

    @Test
    void aStreamStoppedOnAnErrorOrAMissingPartitionClosesTheGate() {
        GateReport error = gates.evaluate(withStreams(good(Phase.BACKFILLED, Duration.ofMinutes(1)), List.of(
                stream(0, StreamState.STOPPED_ERROR, null, "transform raised division by zero"),
                stream(1, StreamState.RUNNING, null, null))), Phase.VERIFIED);
        assertThat(error.summary()).contains("partition 0 stopped on an error (worker w0): transform raised division by zero");
        GateReport missing = gates.evaluate(withStreams(good(Phase.BACKFILLED, Duration.ofMinutes(1)), List.of(
                stream(1, StreamState.RUNNING, null, null))), Phase.VERIFIED);
        assertThat(missing.summary()).contains("partitions [0] of 2 have no sync stream");
        GateReport none = gates.evaluate(withStreams(good(Phase.BACKFILLED, Duration.ofMinutes(1)), List.of()),
                Phase.VERIFIED);
        assertThat(none.summary()).contains("no sync stream recorded for users");
    }

    /** Everything a verified gate wants: 40/40 chunks, lag 0.3s, run #7 after the backfill, no drift. */
    private static Evidence good(Phase phase, Duration inPhase) {
        return new Evidence("users", phase, NOW.minus(inPhase), NOW, 40, 40, BACKFILLED, "ss_users", "0/16B3748",
                new SyncLag(120L, Duration.ofMillis(300), null, "caught up"),
                new ReconcileRun(7, "done", BACKFILLED.plusSeconds(10), NOW.minusSeconds(120), 4000, 0, null), 0,
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofHours(24), STREAMS);
    }

    @Test
    void verifiedOpensWithAllEvidenceAndSaysWhatItSaw() {
        GateReport r = gates.evaluate(good(Phase.BACKFILLED, Duration.ofMinutes(1)), Phase.VERIFIED);
        assertThat(r.open()).isTrue();
        assertThat(r.checks()).extracting(Check::evidence).contains("backfill done: 40/40 chunks", "sync lag 0.3s ≤ 5s",
                "0 open drift rows", "2 sync streams running");
        assertThat(r.checks().get(3).evidence()).startsWith("last full reconcile run #7 finished 2m00s ago");
    }

    @Test
    void verifiedNamesEveryMissingPiece() {
        Evidence e = good(Phase.BACKFILLED, Duration.ofMinutes(1));
        Evidence bad = new Evidence(e.migration(), e.phase(), e.phaseChangedAt(), NOW, 40, 39, null, e.slotName(),
                e.startLsn(), new SyncLag(9000L, null, null, "slot ss_users is 9000 bytes behind"), e.lastFullRun(), 3,
                e.cleanFor(), e.maxLag(), e.quietPeriod(), e.streams());
        GateReport r = gates.evaluate(bad, Phase.VERIFIED);
        assertThat(r.open()).isFalse();
        assertThat(r.failed()).extracting(Check::name).containsExactly("backfill-done", "sync-lag", "reconciled", "drift-open");
        assertThat(r.summary()).contains("39/40 chunks").contains("9000 bytes behind").contains("3 open drift rows");
    }

    @Test
    void aReconcileRunThatStartedBeforeTheBackfillFinishedDoesNotCount() {
        Evidence e = good(Phase.BACKFILLED, Duration.ofMinutes(1));
        Evidence early = new Evidence(e.migration(), e.phase(), e.phaseChangedAt(), NOW, 40, 40, BACKFILLED, e.slotName(),
                e.startLsn(), e.lag(), new ReconcileRun(6, "done", BACKFILLED.minusSeconds(5), NOW.minusSeconds(60), 1, 0, null),
                0, e.cleanFor(), e.maxLag(), e.quietPeriod(), e.streams());
        assertThat(gates.evaluate(early, Phase.VERIFIED).failed()).extracting(Check::name).containsExactly("reconciled");
    }

    @Test
    void lagOverTheMaximumFails() {
        Evidence e = good(Phase.BACKFILLED, Duration.ofMinutes(1));
        Evidence slow = new Evidence(e.migration(), e.phase(), e.phaseChangedAt(), NOW, 40, 40, BACKFILLED, e.slotName(),
                e.startLsn(), new SyncLag(1L, Duration.ofSeconds(7), null, ""), e.lastFullRun(), 0, e.cleanFor(),
                e.maxLag(), e.quietPeriod(), e.streams());
        assertThat(gates.evaluate(slow, Phase.VERIFIED).failed()).extracting(Check::evidence).containsExactly("sync lag 7.0s > 5s");
    }

    /** In verified for {@code inPhase}, with a clean full run #9 that started 10 s after verification. */
    private static Evidence verified(Duration inPhase, long driftFound) {
        Evidence e = good(Phase.VERIFIED, inPhase);
        return new Evidence(e.migration(), e.phase(), e.phaseChangedAt(), NOW, 40, 40, BACKFILLED, e.slotName(),
                e.startLsn(), e.lag(), new ReconcileRun(9, "done", e.phaseChangedAt().plusSeconds(10), NOW.minusSeconds(5),
                4000, driftFound, null), 0, e.cleanFor(), e.maxLag(), e.quietPeriod(), STREAMS);
    }

    @Test
    void readsSwitchWaitsForCleanFor() {
        GateReport early = gates.evaluate(verified(Duration.ofSeconds(252), 0), Phase.READS_SWITCHED);
        assertThat(early.failed()).extracting(Check::evidence).containsExactly("verified for 4m12s of 5m clean-for");
        GateReport open = gates.evaluate(verified(Duration.ofMinutes(5), 0), Phase.READS_SWITCHED);
        assertThat(open.open()).isTrue();
        assertThat(open.summary()).contains("full reconcile run #9 started 10s after verified: 4000 rows checked, 0 drift found");
    }

    @Test
    void readsSwitchNeedsACleanReconcileRunThatStartedAfterVerification() {
        // run #7 started before the migration became verified: it cannot vouch for changes since
        GateReport stale = gates.evaluate(good(Phase.VERIFIED, Duration.ofMinutes(5)), Phase.READS_SWITCHED);
        assertThat(stale.failed()).extracting(Check::name).containsExactly("reconciled-since-verified");
        assertThat(stale.summary()).contains("no full reconcile run started since the migration became verified")
                .contains("shapeshift reconcile run users");
        GateReport drifted = gates.evaluate(verified(Duration.ofMinutes(5), 2), Phase.READS_SWITCHED);
        assertThat(drifted.failed()).extracting(Check::name).containsExactly("reconciled-since-verified");
        assertThat(drifted.summary()).contains("2 drift found").contains("repair it");
    }

    @Test
    void undoingIsAlwaysAllowedAndContractIsClosedByDefault() {
        Evidence noEvidence = new Evidence("users", Phase.READS_SWITCHED, NOW, NOW, 0, 0, null, null, null, null, null, 5,
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofHours(24), List.of());
        assertThat(gates.evaluate(noEvidence, Phase.VERIFIED).open()).isTrue();
        assertThat(gates.evaluate(noEvidence, Phase.ROLLED_BACK).open()).isTrue();
        assertThat(gates.evaluate(noEvidence, Phase.CONTRACT_READY).failed()).extracting(Check::name)
                .containsExactly("quiet-period");
        Evidence ready = new Evidence("users", Phase.CONTRACT_READY, NOW, NOW, 0, 0, null, null, null, null, null, 0,
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofHours(24), List.of());
        assertThat(gates.evaluate(ready, Phase.CONTRACTED).open()).isFalse();
        assertThat(gates.evaluate(ready, Phase.READS_SWITCHED).open()).isTrue();
    }

    @Test
    void syncingNeedsTheStartLsnAndIllegalMovesAreNamed() {
        Evidence planned = new Evidence("users", Phase.EXPANDED, NOW, NOW, 0, 0, null, null, null, null, null, 0,
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofHours(24), List.of());
        assertThat(gates.evaluate(planned, Phase.SYNCING).summary()).contains("sync-started").contains("no start LSN");
        assertThat(gates.evaluate(planned, Phase.VERIFIED).failed()).extracting(Check::name).containsExactly("legal-move");
    }

    @Test
    void expandedNeedsTheNewShapeInTheDatabase() {
        Evidence.NewShape missing = new Evidence.NewShape(false, "the new shape is not in public.users (the expand DDL has not run)");
        Evidence absent = new Evidence("users", Phase.PLANNED, NOW, NOW, 0, 0, null, null, null, null, null, 0,
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofHours(24), missing, List.of());
        GateReport closed = gates.evaluate(absent, Phase.EXPANDED);
        assertThat(closed.open()).isFalse();
        assertThat(closed.summary()).contains("new-shape").contains("expand DDL has not run");

        Evidence present = new Evidence("users", Phase.PLANNED, NOW, NOW, 0, 0, null, null, null, null, null, 0,
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofHours(24),
                new Evidence.NewShape(true, "the new shape exists in public.users"), List.of());
        assertThat(gates.evaluate(present, Phase.EXPANDED).open()).isTrue();

        Evidence notExamined = new Evidence("users", Phase.PLANNED, NOW, NOW, 0, 0, null, null, null, null, null, 0,
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofHours(24));
        assertThat(gates.evaluate(notExamined, Phase.EXPANDED).open()).isFalse();
    }

    @Test
    void verifiedStaysClosedWhileStagedStructureIsPendingOrViolatedAndNamesIt() {
        Evidence e = good(Phase.BACKFILLED, Duration.ofMinutes(1));
        GateReport violated = gates.evaluate(structure(e, new Evidence.Structure(List.of("unique index users_slug_key"),
                3, "unique index users_slug_key: 3 duplicates, e.g. key [[\"10\"], [\"1010\"]]")), Phase.VERIFIED);
        assertThat(violated.open()).isFalse();
        assertThat(violated.failed()).extracting(Check::name).containsExactly("structure");
        assertThat(violated.failed().get(0).evidence()).contains("3 finding(s)").contains("users_slug_key")
                .contains("fix the data");
        GateReport pending = gates.evaluate(structure(e, new Evidence.Structure(List.of("not null email_verified"), 0, "")),
                Phase.VERIFIED);
        assertThat(pending.failed()).extracting(Check::evidence).containsExactly("not enforced yet: not null email_verified");
        assertThat(gates.evaluate(structure(e, Evidence.Structure.NONE), Phase.VERIFIED).open()).isTrue();
    }

    private static Evidence structure(Evidence e, Evidence.Structure s) {
        return new Evidence(e.migration(), e.phase(), e.phaseChangedAt(), e.now(), e.chunks(), e.chunksDone(),
                e.backfillFinishedAt(), e.slotName(), e.startLsn(), e.lag(), e.lastFullRun(), e.openDrift(), e.cleanFor(),
                e.maxLag(), e.quietPeriod(), e.newShape(), e.streams(), s);
    }
}
