package dev.shapeshift.coordinator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.phase.Phase;
import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.spec.Writes;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the status says about the write switch: what applications do, and what a rollback can still do. */
class WriteSwitchStatusTest {
    private static final PhasePlan DUAL_FIRST = PhasePlan.of(new Writes(true, null, null, null, null, null, null, null));

    @Test
    void withoutReverseTransformsTheStatusSaysRollbackAfterTheWriteSwitchIsImpossible() {
        assertThat(StatusReader.rollback(Phase.DUAL_WRITES, DUAL_FIRST, false))
                .isEqualTo("no writes.reverse: rollback after the write switch is impossible (possible until then)");
        assertThat(StatusReader.rollback(Phase.WRITES_SWITCHED, DUAL_FIRST, false))
                .startsWith(MigrationStatus.NO_REVERSE).contains("the old shape is stale");
        assertThat(StatusReader.rollback(Phase.CONTRACT_READY, DUAL_FIRST, false)).startsWith(MigrationStatus.NO_REVERSE);
        // With reverse transforms the sentence never appears.
        for (Phase p : DUAL_FIRST.order()) {
            assertThat(StatusReader.rollback(p, DUAL_FIRST, true)).doesNotContain("impossible");
        }
        assertThat(StatusReader.rollback(Phase.WRITES_SWITCHED, DUAL_FIRST, true)).contains("reverse sync drains");
        assertThat(StatusReader.rollback(Phase.CONTRACTED, DUAL_FIRST, true)).startsWith("no rollback");
    }

    @Test
    void applicationsAreToldWhatToReadAndWriteInEachPhase() {
        assertThat(writes(DUAL_FIRST, Phase.VERIFIED).applications()).isEqualTo("read the old shape, write the old shape");
        assertThat(writes(DUAL_FIRST, Phase.DUAL_WRITES).applications()).isEqualTo("read the old shape, write both shapes");
        assertThat(writes(DUAL_FIRST, Phase.READS_SWITCHED).applications()).isEqualTo("read the new shape, write both shapes");
        assertThat(writes(DUAL_FIRST, Phase.WRITES_SWITCHED).applications())
                .isEqualTo("read the new shape, write only the new shape");
    }

    private static MigrationStatus.Writes writes(PhasePlan plan, Phase p) {
        return new MigrationStatus.Writes("forward", "m.write-new", null, plan.readsNew(p), plan.dualWrites(p),
                plan.writesNew(p), 0, 0, List.of(), List.of(), true, StatusReader.rollback(p, plan, true));
    }
}
