package dev.shapeshift.phase;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.spec.WriteOrder;
import dev.shapeshift.spec.Writes;
import org.junit.jupiter.api.Test;

class PhasePlanTest {
    private static Writes writes(boolean on, WriteOrder order) {
        return new Writes(on, order, null, null, null, null, null, null);
    }

    /** Each phase of {@code order} is the plan's next after the one before it. */
    private static void assertOrder(PhasePlan p, Phase... order) {
        for (int i = 1; i < order.length; i++) {
            assertThat(p.next(order[i - 1])).as("after %s", order[i - 1].label()).contains(order[i]);
        }
    }

    @Test
    void withoutAWriteSwitchTheOrderIsTheOldOneAndNoWriteFlagEverGoesOn() {
        PhasePlan p = PhasePlan.of(Writes.none());
        assertOrder(p, Phase.VERIFIED, Phase.READS_SWITCHED, Phase.CONTRACT_READY);
        assertThat(p.contains(Phase.DUAL_WRITES)).isFalse();
        for (Phase ph : Phase.values()) {
            assertThat(p.writesNew(ph)).as(ph.label()).isFalse();
            assertThat(p.dualWrites(ph)).as(ph.label()).isFalse();
        }
        assertThat(p.readsNew(Phase.READS_SWITCHED)).isTrue();
        assertThat(p.readsNew(Phase.ROLLED_BACK)).isFalse();
    }

    @Test
    void theSeedsOrderWritesBothBeforeReadingTheNewShape() {
        PhasePlan p = PhasePlan.of(writes(true, WriteOrder.DUAL_WRITES_FIRST));
        assertOrder(p, Phase.VERIFIED, Phase.DUAL_WRITES, Phase.READS_SWITCHED, Phase.WRITES_SWITCHED,
                Phase.CONTRACT_READY);
        assertThat(p.readsNew(Phase.DUAL_WRITES)).isFalse();
        assertThat(p.dualWrites(Phase.DUAL_WRITES)).isTrue();
        assertThat(p.dualWrites(Phase.READS_SWITCHED)).isTrue();
        assertThat(p.writesNew(Phase.WRITES_SWITCHED)).isTrue();
        assertThat(p.writesNew(Phase.CONTRACT_READY)).isTrue();
        assertThat(p.dualWrites(Phase.WRITES_SWITCHED)).isFalse();
        assertThat(p.backward(Phase.WRITES_SWITCHED, Phase.READS_SWITCHED)).isTrue();
        assertThat(p.backward(Phase.DUAL_WRITES, Phase.READS_SWITCHED)).isFalse();
    }

    @Test
    void readsFirstSwitchesReadsBeforeTheApplicationDualWrites() {
        PhasePlan p = PhasePlan.of(writes(true, WriteOrder.READS_FIRST));
        assertOrder(p, Phase.VERIFIED, Phase.READS_SWITCHED, Phase.DUAL_WRITES, Phase.WRITES_SWITCHED);
        assertThat(p.readsNew(Phase.DUAL_WRITES)).isTrue();
        assertThat(p.dualWrites(Phase.READS_SWITCHED)).as("no mismatch recording before the application dual-writes")
                .isFalse();
        // In this order dual-writes comes after reads-switched: going there is forward, not an undo.
        assertThat(p.backward(Phase.READS_SWITCHED, Phase.DUAL_WRITES)).isFalse();
        assertThat(p.backward(Phase.DUAL_WRITES, Phase.READS_SWITCHED)).isTrue();
    }
}
