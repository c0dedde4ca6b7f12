package dev.shapeshift.worker.backfill;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BloatGuardTest {
    @Test
    void vacuumsEveryTenthOfTheTable() {
        assertThat(BloatGuard.step(1_000_000, 0.10, 10_000)).isEqualTo(100_000);
    }

    @Test
    void aMissingEstimateDoesNotVacuumAfterEverySubBatch() {
        // A worker that starts before the plan exists saw 0 rows: marks one row apart before.
        assertThat(BloatGuard.step(0, 0.10, 10_000)).isEqualTo(10_000);
        assertThat(BloatGuard.step(50_000, 0.10, 10_000)).isEqualTo(10_000);
    }
}
