package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.launcher.WaitCommand.Outcome;
import dev.shapeshift.phase.Phase;
import org.junit.jupiter.api.Test;

class WaitCommandTest {
    @Test
    void reachedMeansThePhaseOrPastItOnTheWayToTheContract() {
        assertThat(WaitCommand.outcome(Phase.VERIFIED, Phase.VERIFIED)).isEqualTo(Outcome.REACHED);
        assertThat(WaitCommand.outcome(Phase.CONTRACT_READY, Phase.VERIFIED)).isEqualTo(Outcome.REACHED);
        assertThat(WaitCommand.outcome(Phase.BACKFILLED, Phase.VERIFIED)).isEqualTo(Outcome.NOT_YET);
        assertThat(WaitCommand.outcome(Phase.ROLLED_BACK, Phase.VERIFIED)).isEqualTo(Outcome.NEVER);
        assertThat(WaitCommand.outcome(Phase.ROLLED_BACK, Phase.CONTRACTED)).isEqualTo(Outcome.NEVER);
        assertThat(WaitCommand.outcome(Phase.CONTRACTED, Phase.CONTRACTED)).isEqualTo(Outcome.REACHED);
        assertThat(WaitCommand.outcome(Phase.ROLLED_BACK, Phase.ROLLED_BACK)).isEqualTo(Outcome.REACHED);
        assertThat(WaitCommand.outcome(Phase.VERIFIED, Phase.ROLLED_BACK)).isEqualTo(Outcome.NOT_YET);
        assertThat(WaitCommand.outcome(Phase.CONTRACTED, Phase.ROLLED_BACK)).isEqualTo(Outcome.NEVER);
    }
}
