package dev.shapeshift.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CopyableTest {

    /** A config record of the usual kind: validated in its constructor. */
    record Knobs(String name, int count, long bytes, Duration tick) implements Copyable<Knobs> {
        Knobs {
            if (count < 1) {
                throw new IllegalArgumentException("knobs: count must be at least 1, got " + count);
            }
        }
    }

    private static final Knobs BASE = new Knobs("a", 1, 2L, Duration.ofSeconds(3));

    @Test
    void aCopyChangesTheNamedComponentAndKeepsTheOthers() {
        assertThat(BASE.with(Knobs::count).to(7)).isEqualTo(new Knobs("a", 7, 2L, Duration.ofSeconds(3)));
        assertThat(BASE.with(Knobs::bytes).to(9L)).isEqualTo(new Knobs("a", 1, 9L, Duration.ofSeconds(3)));
        assertThat(BASE.with(Knobs::name).to("b").with(Knobs::tick).to(Duration.ZERO))
                .isEqualTo(new Knobs("b", 1, 2L, Duration.ZERO));
        assertThat(BASE).isEqualTo(new Knobs("a", 1, 2L, Duration.ofSeconds(3)));
    }

    @Test
    void theRecordsOwnValidationRefusesABadValueWithItsOwnError() {
        assertThatThrownBy(() -> BASE.with(Knobs::count).to(0))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage("knobs: count must be at least 1, got 0");
    }

    @Test
    void aComponentIsNamedByItsAccessorOnly() {
        assertThatThrownBy(() -> BASE.with(k -> k.count() + 1).to(3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a component of")
                .hasMessageContaining("Knobs::name");
    }
}
