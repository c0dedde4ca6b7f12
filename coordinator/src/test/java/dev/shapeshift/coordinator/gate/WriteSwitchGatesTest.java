package dev.shapeshift.coordinator.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.StreamState;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.refresh.SyncDirection;
import dev.shapeshift.spec.WriteOrder;
import dev.shapeshift.spec.Writes;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The write switch's gates as pure functions of the evidence. */
class WriteSwitchGatesTest {
    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    private static final PhasePlan PLAN = PhasePlan.of(new Writes(true, WriteOrder.DUAL_WRITES_FIRST, null,
            Map.of("legacy_verified_at", "x"), null, null, null, null));
    private static final WriteEvidence.Statements WRITES = new WriteEvidence.Statements(true,
            List.of("UPDATE users SET legacy_verified_at = $1, email_verified = $2 WHERE id = $3 (420 calls)"), "1 statement(s)");
    private final Gates gates = new Gates();

    private static Evidence evidence(Phase phase, WriteEvidence w) {
        List<SyncStream> streams = List.of(new SyncStream("users", 0, "w0", 1, StreamState.RUNNING, 100L, "0/16B3748",
                NOW.minusSeconds(1), NOW, null, null, NOW));
        return new Evidence("users", phase, NOW.minusSeconds(600), NOW, 4, 4, NOW.minusSeconds(900), "ss", "0/1",
                new SyncLag(1L, Duration.ofMillis(200), null, "caught up"),
                new ReconcileRun(9, "done", NOW.minusSeconds(500), NOW.minusSeconds(400), 100, 0, null), 0,
                Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofHours(1), null, streams, null, w);
    }

    private static WriteEvidence writes(long recentMismatches, Duration dualFor, WriteEvidence.RoundTrip rt,
                                        WriteEvidence.Statements statements, boolean reversible) {
        return new WriteEvidence(PLAN, reversible, SyncDirection.FORWARD, NOW.minus(dualFor), Duration.ofMinutes(5),
                recentMismatches, recentMismatches + 2, recentMismatches > 0 ? List.of("[\"42\"]") : List.of(), rt,
                statements);
    }

    @Test
    void leavingDualWritesNeedsACleanWindowAndTheApplicationsStatements() {
        GateReport open = gates.evaluate(evidence(Phase.DUAL_WRITES, writes(0, Duration.ofMinutes(6), null, WRITES, true)),
                Phase.READS_SWITCHED);
        assertThat(open.open()).as(open.summary()).isTrue();
        assertThat(open.checks()).extracting(Check::evidence).contains(
                "dual writes for 6m00s of 5m (writes.cleanFor), 0 mismatches in that window (2 earlier)");

        GateReport mismatches = gates.evaluate(evidence(Phase.DUAL_WRITES, writes(3, Duration.ofMinutes(6), null, WRITES,
                true)), Phase.READS_SWITCHED);
        assertThat(mismatches.failed()).extracting(Check::name).containsExactly("dual-writes-clean");
        assertThat(mismatches.summary()).contains("3 key(s) whose new shape, as the application wrote it, differed",
                "[\"42\"]");

        GateReport young = gates.evaluate(evidence(Phase.DUAL_WRITES, writes(0, Duration.ofMinutes(1), null, WRITES, true)),
                Phase.READS_SWITCHED);
        assertThat(young.failed()).extracting(Check::name).containsExactly("dual-writes-clean");

        GateReport noStatements = gates.evaluate(evidence(Phase.DUAL_WRITES, writes(0, Duration.ofMinutes(6), null,
                new WriteEvidence.Statements(true, List.of(), "no INSERT or UPDATE on users naming a new column"), true)),
                Phase.READS_SWITCHED);
        assertThat(noStatements.failed()).extracting(Check::name).containsExactly("writes-new-shape");
        assertThat(noStatements.summary()).contains("deploy the application version that writes both shapes");
    }

    @Test
    void theWriteSwitchNeedsTheRoundTripOrSaysRollbackBecomesImpossible() {
        WriteEvidence.RoundTrip lossy = new WriteEvidence.RoundTrip("all rows", List.of("[207]", "[507]"), null);
        GateReport refused = gates.evaluate(evidence(Phase.READS_SWITCHED, writes(0, Duration.ofMinutes(9), lossy, WRITES,
                true)), Phase.WRITES_SWITCHED);
        assertThat(refused.failed()).extracting(Check::name).containsExactly("round-trip");
        assertThat(refused.summary()).contains("differs from new on all rows, e.g. keys [207], [507]");

        WriteEvidence.RoundTrip holds = new WriteEvidence.RoundTrip("the first 1000 rows in key order", List.of(), null);
        assertThat(gates.evaluate(evidence(Phase.READS_SWITCHED, writes(0, Duration.ofMinutes(9), holds, WRITES, true)),
                Phase.WRITES_SWITCHED).open()).isTrue();

        GateReport noReverse = gates.evaluate(evidence(Phase.READS_SWITCHED, writes(0, Duration.ofMinutes(9), null, WRITES,
                false)), Phase.WRITES_SWITCHED);
        assertThat(noReverse.open()).isTrue();
        assertThat(noReverse.summary()).contains("a rollback after that point is impossible");
    }

    @Test
    void undoingTheWriteSwitchIsAlwaysAllowedAndSaysTheReverseSyncDrainsFirst() {
        GateReport undo = gates.evaluate(evidence(Phase.WRITES_SWITCHED, writes(5, Duration.ZERO, null, null, true)),
                Phase.READS_SWITCHED);
        assertThat(undo.open()).isTrue();
        assertThat(undo.summary()).contains("the reverse sync keeps running until applications have seen it");
    }

    @Test
    void contractReadyAfterTheWriteSwitchNamesAKeySequenceThatFellBehind() {
        String behind = "sequence public.users_v2_id_seq is at 2000, below max(id) = 2417 of users_v2: the next insert "
                + "without a key collides (SELECT setval('public.users_v2_id_seq', 2417))";
        WriteEvidence lagging = new WriteEvidence(PLAN, true, SyncDirection.REVERSE, NOW.minusSeconds(900),
                Duration.ofMinutes(5), 0, 0, List.of(), null, WRITES, List.of(), null, List.of(behind));
        GateReport closed = gates.evaluate(evidence(Phase.WRITES_SWITCHED, lagging), Phase.CONTRACT_READY);
        assertThat(closed.checks()).filteredOn(c -> c.name().equals("key-sequences")).singleElement()
                .satisfies(c -> {
                    assertThat(c.passed()).isFalse();
                    assertThat(c.evidence()).contains("public.users_v2_id_seq", "setval");
                });

        WriteEvidence ahead = new WriteEvidence(PLAN, true, SyncDirection.REVERSE, NOW.minusSeconds(900),
                Duration.ofMinutes(5), 0, 0, List.of(), null, WRITES, List.of(), null, List.of());
        assertThat(gates.evaluate(evidence(Phase.WRITES_SWITCHED, ahead), Phase.CONTRACT_READY).checks())
                .filteredOn(c -> c.name().equals("key-sequences")).singleElement().matches(Check::passed);
        WriteEvidence notRead = writes(0, Duration.ofMinutes(6), null, WRITES, true);
        assertThat(gates.evaluate(evidence(Phase.WRITES_SWITCHED, notRead), Phase.CONTRACT_READY).checks())
                .noneMatch(c -> c.name().equals("key-sequences"));
    }
}
