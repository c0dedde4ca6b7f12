package dev.shapeshift.worker.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BatchSizerTest {
    private static final Duration TARGET = Duration.ofMillis(300);

    @Test
    void growsAtMostTwofoldWhenFast() {
        BatchSizer s = new BatchSizer(1000, 10_000, TARGET);
        s.observe(1000, 1000, Duration.ofMillis(10));
        assertThat(s.size()).isEqualTo(2000);
    }

    @Test
    void shrinksAtMostByHalfWhenSlow() {
        BatchSizer s = new BatchSizer(1000, 10_000, TARGET);
        s.observe(1000, 1000, Duration.ofSeconds(5));
        assertThat(s.size()).isEqualTo(500);
    }

    @Test
    void convergesTowardHalfTheTarget() {
        BatchSizer s = new BatchSizer(1000, 10_000, TARGET);
        s.observe(1000, 1000, Duration.ofMillis(200));
        assertThat(s.size()).as("150 ms aimed at: 1000 rows × 150 / 200").isEqualTo(750);
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
    void aShortFastBatchAtTheEndOfARangeTeachesNothing() {
        BatchSizer s = new BatchSizer(1000, 10_000, TARGET);
        s.observe(1000, 3, Duration.ofMillis(1));
        assertThat(s.size()).isEqualTo(1000);
    }

    @Test
    void rejectsANonPositiveTarget() {
        assertThatThrownBy(() -> new BatchSizer(1, 1, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }
}
