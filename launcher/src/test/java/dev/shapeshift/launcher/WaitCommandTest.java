package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.launcher.WaitCommand.Outcome;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.spec.WriteOrder;
import dev.shapeshift.spec.Writes;
import org.junit.jupiter.api.Test;

class WaitCommandTest {
    private static final PhasePlan PLAIN = PhasePlan.of(Writes.none());
    private static final PhasePlan DUAL_FIRST = PhasePlan.of(writes("dual-writes-first"));
    private static final PhasePlan READS_FIRST = PhasePlan.of(writes("reads-first"));

    private static Writes writes(String order) {
        return new Writes(true, WriteOrder.fromYaml(order), null, null, null, null, null, null);
    }

    @Test
    void pastIsInTheMigrationsOwnOrder() {
        assertThat(WaitCommand.outcome(Phase.READS_SWITCHED, Phase.DUAL_WRITES, DUAL_FIRST)).isEqualTo(Outcome.REACHED);
        assertThat(WaitCommand.outcome(Phase.READS_SWITCHED, Phase.DUAL_WRITES, READS_FIRST)).isEqualTo(Outcome.NOT_YET);
        assertThat(WaitCommand.outcome(Phase.DUAL_WRITES, Phase.READS_SWITCHED, READS_FIRST)).isEqualTo(Outcome.REACHED);
        assertThat(WaitCommand.outcome(Phase.DUAL_WRITES, Phase.WRITES_SWITCHED, DUAL_FIRST)).isEqualTo(Outcome.NOT_YET);
        assertThat(WaitCommand.outcome(Phase.WRITES_SWITCHED, Phase.READS_SWITCHED, DUAL_FIRST)).isEqualTo(Outcome.REACHED);
        assertThat(WaitCommand.outcome(Phase.CONTRACT_READY, Phase.WRITES_SWITCHED, READS_FIRST)).isEqualTo(Outcome.REACHED);
        // Without a write switch the write phases are never reached.
        assertThat(WaitCommand.outcome(Phase.CONTRACT_READY, Phase.DUAL_WRITES, PLAIN)).isEqualTo(Outcome.NEVER);
        assertThat(WaitCommand.outcome(Phase.VERIFIED, Phase.WRITES_SWITCHED, PLAIN)).isEqualTo(Outcome.NEVER);
    }

    @Test
    void reachedMeansThePhaseOrPastItOnTheWayToTheContract() {
        assertThat(WaitCommand.outcome(Phase.VERIFIED, Phase.VERIFIED, PLAIN)).isEqualTo(Outcome.REACHED);
        assertThat(WaitCommand.outcome(Phase.CONTRACT_READY, Phase.VERIFIED, PLAIN)).isEqualTo(Outcome.REACHED);
        assertThat(WaitCommand.outcome(Phase.BACKFILLED, Phase.VERIFIED, PLAIN)).isEqualTo(Outcome.NOT_YET);
        assertThat(WaitCommand.outcome(Phase.ROLLED_BACK, Phase.VERIFIED, PLAIN)).isEqualTo(Outcome.NEVER);
        assertThat(WaitCommand.outcome(Phase.ROLLED_BACK, Phase.CONTRACTED, PLAIN)).isEqualTo(Outcome.NEVER);
        assertThat(WaitCommand.outcome(Phase.CONTRACTED, Phase.CONTRACTED, PLAIN)).isEqualTo(Outcome.REACHED);
        assertThat(WaitCommand.outcome(Phase.ROLLED_BACK, Phase.ROLLED_BACK, PLAIN)).isEqualTo(Outcome.REACHED);
        assertThat(WaitCommand.outcome(Phase.VERIFIED, Phase.ROLLED_BACK, PLAIN)).isEqualTo(Outcome.NOT_YET);
        assertThat(WaitCommand.outcome(Phase.CONTRACTED, Phase.ROLLED_BACK, PLAIN)).isEqualTo(Outcome.NEVER);
    }
}
