package dev.shapeshift.worker.backfill;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BloatGuardTest {
    @Test
    void theDefaultGrowthOf1point2VacuumsEveryTenthOfTheTable() {
        assertThat(BloatGuard.fraction(1.2)).isCloseTo(0.10, within(1e-9));
        assertThat(BloatGuard.step(1_000_000, BloatGuard.fraction(1.2), 10_000)).isEqualTo(100_000);
        assertThat(BloatGuard.step(10_000_000, BloatGuard.fraction(1.2), 10_000)).isEqualTo(1_000_000);
    }

    @Test
    void aTighterGrowthVacuumsInProportion() {
        // Half the allowed growth between VACUUMs: 1.1 -> every 5%, 1.05 -> every 2.5%.
        assertThat(BloatGuard.step(1_000_000, BloatGuard.fraction(1.1), 10_000)).isEqualTo(50_000);
        assertThat(BloatGuard.step(1_000_000, BloatGuard.fraction(1.05), 10_000)).isEqualTo(25_000);
    }

    @Test
    void theFractionStaysBetweenOnePercentAndHalfTheTable() {
        assertThat(BloatGuard.fraction(1.001)).isEqualTo(0.01);
        assertThat(BloatGuard.fraction(3.0)).isEqualTo(0.50);
    }

    @Test
    void aMissingEstimateDoesNotVacuumAfterEverySubBatch() {
        // A worker that starts before the plan exists saw 0 rows: marks one row apart before.
        assertThat(BloatGuard.step(0, 0.10, 10_000)).isEqualTo(10_000);
        assertThat(BloatGuard.step(50_000, 0.10, 10_000)).isEqualTo(10_000);
    }
}
