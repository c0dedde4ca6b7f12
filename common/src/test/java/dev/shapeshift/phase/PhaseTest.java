package dev.shapeshift.phase;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class PhaseTest {

    @Test
    void theHappyPathIsOneStepAtATime() {
        Phase[] path = {Phase.PLANNED, Phase.EXPANDED, Phase.SYNCING, Phase.BACKFILLING, Phase.BACKFILLED,
                Phase.VERIFIED, Phase.READS_SWITCHED, Phase.CONTRACT_READY, Phase.CONTRACTED};
        for (int i = 0; i + 1 < path.length; i++) {
            assertThat(path[i].canMoveTo(path[i + 1])).as("%s -> %s", path[i], path[i + 1]).isTrue();
        }
        assertThat(Phase.PLANNED.canMoveTo(Phase.BACKFILLING)).as("no skipping").isFalse();
        assertThat(Phase.SYNCING.canMoveTo(Phase.EXPANDED)).as("no going back before verification").isFalse();
    }

    @Test
    void everyPhaseBeforeContractedCanRollBackAndTheEndsAreTerminal() {
        for (Phase p : EnumSet.range(Phase.PLANNED, Phase.CONTRACT_READY)) {
            assertThat(p.canMoveTo(Phase.ROLLED_BACK)).as("%s can roll back", p).isTrue();
            assertThat(p.terminal()).isFalse();
        }
        assertThat(Phase.CONTRACTED.canMoveTo(Phase.ROLLED_BACK)).as("the contract is irreversible").isFalse();
        assertThat(Phase.CONTRACTED.terminal()).isTrue();
        assertThat(Phase.ROLLED_BACK.terminal()).isTrue();
        assertThat(Phase.ROLLED_BACK.next()).isEmpty();
    }

    @Test
    void readsCanBeSwitchedBackAndVerificationCanFail() {
        assertThat(Phase.READS_SWITCHED.canMoveTo(Phase.VERIFIED)).isTrue();
        assertThat(Phase.CONTRACT_READY.canMoveTo(Phase.READS_SWITCHED)).isTrue();
        assertThat(Phase.VERIFIED.canMoveTo(Phase.BACKFILLED)).isTrue();
    }

    @Test
    void labelsRoundTripAndUnknownLabelsAreRefused() {
        for (Phase p : Phase.values()) {
            assertThat(Phase.fromLabel(p.label())).isEqualTo(p);
        }
        assertThat(Phase.READS_SWITCHED.label()).isEqualTo("reads-switched");
        assertThatThrownBy(() -> Phase.fromLabel("done")).hasMessageContaining("unknown phase 'done'");
    }

    @Test
    void syncRunsFromSyncingUntilTheContract() {
        assertThat(Phase.EXPANDED.syncActive()).isFalse();
        assertThat(Phase.SYNCING.syncActive()).isTrue();
        assertThat(Phase.CONTRACT_READY.syncActive()).isTrue();
        assertThat(Phase.CONTRACTED.syncActive()).isFalse();
        assertThat(Phase.ROLLED_BACK.syncActive()).isFalse();
    }
}
