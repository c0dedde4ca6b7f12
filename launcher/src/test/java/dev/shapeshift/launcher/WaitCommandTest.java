package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.launcher.WaitCommand.Outcome;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.spec.WriteOrder;
import dev.shapeshift.spec.Writes;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each row: the migration's phase, the phase waited for, the migration's write plan, what the wait says. */
class WaitCommandTest {
    private static PhasePlan plan(String name) {
        return switch (name) {
            case "PLAIN" -> PhasePlan.of(Writes.none());
            case "DUAL_FIRST" -> PhasePlan.of(writes("dual-writes-first"));
            case "READS_FIRST" -> PhasePlan.of(writes("reads-first"));
            default -> throw new IllegalArgumentException("no plan " + name);
        };
    }

    private static Writes writes(String order) {
        return new Writes(true, WriteOrder.fromYaml(order), null, null, null, null, null, null);
    }

    @ParameterizedTest(name = "{0} waiting for {1} ({2}): {3}")
    @CsvSource({
            "READS_SWITCHED, DUAL_WRITES, DUAL_FIRST, REACHED",
            "READS_SWITCHED, DUAL_WRITES, READS_FIRST, NOT_YET",
            "DUAL_WRITES, READS_SWITCHED, READS_FIRST, REACHED",
            "DUAL_WRITES, WRITES_SWITCHED, DUAL_FIRST, NOT_YET",
            "WRITES_SWITCHED, READS_SWITCHED, DUAL_FIRST, REACHED",
            "CONTRACT_READY, WRITES_SWITCHED, READS_FIRST, REACHED",
            // Without a write switch the write phases are never reached.
            "CONTRACT_READY, DUAL_WRITES, PLAIN, NEVER",
            "VERIFIED, WRITES_SWITCHED, PLAIN, NEVER"})
    void pastIsInTheMigrationsOwnOrder(Phase now, Phase wanted, String plan, Outcome outcome) {
        assertThat(WaitCommand.outcome(now, wanted, plan(plan))).isEqualTo(outcome);
    }

    @ParameterizedTest(name = "{0} waiting for {1}: {2}")
    @CsvSource({
            "VERIFIED, VERIFIED, REACHED",
            "CONTRACT_READY, VERIFIED, REACHED",
            "BACKFILLED, VERIFIED, NOT_YET",
            "ROLLED_BACK, VERIFIED, NEVER",
            "ROLLED_BACK, CONTRACTED, NEVER",
            "CONTRACTED, CONTRACTED, REACHED",
            "ROLLED_BACK, ROLLED_BACK, REACHED",
            "VERIFIED, ROLLED_BACK, NOT_YET",
            "CONTRACTED, ROLLED_BACK, NEVER"})
    void reachedMeansThePhaseOrPastItOnTheWayToTheContract(Phase now, Phase wanted, Outcome outcome) {
        assertThat(WaitCommand.outcome(now, wanted, plan("PLAIN"))).isEqualTo(outcome);
    }
}
