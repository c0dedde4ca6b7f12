package dev.shapeshift.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationTextTest {
    @Test
    void parsesShortAndIsoForms() {
        assertThat(DurationText.parse("300ms")).isEqualTo(Duration.ofMillis(300));
        assertThat(DurationText.parse("5s")).isEqualTo(Duration.ofSeconds(5));
        assertThat(DurationText.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(DurationText.parse("24h")).isEqualTo(Duration.ofHours(24));
        assertThat(DurationText.parse("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(DurationText.parse("PT5M")).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void rejectsOtherText() {
        assertThatThrownBy(() -> DurationText.parse("5 minutes")).hasMessageContaining("not a duration");
        assertThatThrownBy(() -> DurationText.parse("5")).hasMessageContaining("not a duration");
        assertThatThrownBy(() -> DurationText.parse("PTX")).hasMessageContaining("not a duration");
    }

    @Test
    void formatsTheShortestExactForm() {
        assertThat(DurationText.format(Duration.ofMillis(300))).isEqualTo("300ms");
        assertThat(DurationText.format(Duration.ofHours(24))).isEqualTo("1d");
        assertThat(DurationText.format(Duration.ofMinutes(90))).isEqualTo("90m");
        assertThat(DurationText.format(Duration.ofDays(7))).isEqualTo("7d");
        assertThat(DurationText.format(Duration.ZERO)).isEqualTo("0ms");
    }
}
