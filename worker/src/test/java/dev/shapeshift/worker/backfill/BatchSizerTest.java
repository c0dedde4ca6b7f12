package dev.shapeshift.worker.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BatchSizerTest {
    private static final Duration TARGET = Duration.ofMillis(300);

    /** One observation of a batch of 1000 rows asked for, from 1000: the next size. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "grows at most twofold when fast | 1000 | 10 | 2000",
            "shrinks at most by half when slow | 1000 | 5000 | 500",
            "converges toward half the target: 150 ms aimed at, 1000 rows × 150 / 200 | 1000 | 200 | 750",
            "a short fast batch at the end of a range teaches nothing | 3 | 1 | 1000"})
    void oneObservation(String what, int rows, long tookMillis, int next) {
        BatchSizer s = new BatchSizer(1000, 10_000, TARGET);
        s.observe(1000, rows, Duration.ofMillis(tookMillis));
        assertThat(s.size()).as(what).isEqualTo(next);
    }

    @Test
    void aBatchThatTookTheWholeTargetShrinksSoTheNextStaysUnderIt() {
        BatchSizer s = new BatchSizer(1000, 10_000, TARGET);
        s.observe(1000, 1000, TARGET);
        assertThat(s.size()).isEqualTo(500);
        s.observe(500, 500, Duration.ofMillis(150));
        assertThat(s.size()).as("at the aim: stays").isEqualTo(500);
    }

    @Test
    void staysWithinBounds() {
        BatchSizer s = new BatchSizer(1000, 1500, TARGET);
        s.observe(1000, 1000, Duration.ofMillis(1));
        assertThat(s.size()).isEqualTo(1500);
        for (int i = 0; i < 20; i++) {
            s.lockTimedOut();
        }
        assertThat(s.size()).isEqualTo(BatchSizer.MIN_ROWS);
    }

    @Test
    void rejectsANonPositiveTarget() {
        assertThatThrownBy(() -> new BatchSizer(1, 1, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }
}
