package dev.shapeshift.coordinator.drive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.coordinator.contract.Cleanup;
import dev.shapeshift.error.ShapeshiftException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DriveConfigTest {
    @Test
    void defaultsAreDocumented() {
        DriveConfig c = DriveConfig.on("kafka:9092", DriveConfig.DEFAULT_PARTITIONS);
        assertThat(c.enabled()).isTrue();
        assertThat(c.partitions()).isEqualTo(6);
        assertThat(c.replication()).isEqualTo((short) 1);
        assertThat(c.publication()).isEqualTo(Cleanup.DEFAULT_PUBLICATION);
        assertThat(c.tick()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.stallAfter()).isEqualTo(Duration.ofMinutes(10));
        assertThat(DriveConfig.OFF.enabled()).isFalse();
    }

    @Test
    void badValuesFailFastNamingTheOption() {
        assertThatThrownBy(() -> DriveConfig.on("kafka:9092", 0)).isInstanceOf(ShapeshiftException.class)
                .hasMessageContaining("--partitions must be at least 1");
        assertThatThrownBy(() -> DriveConfig.on(" ", 6)).hasMessageContaining("--bootstrap");
        assertThatThrownBy(() -> DriveConfig.on("kafka:9092", 6).withStallAfter(Duration.ZERO))
                .hasMessageContaining("must be positive");
        assertThatThrownBy(() -> DriveConfig.on("kafka:9092", 6).withReplication((short) 0))
                .hasMessageContaining("--replication");
    }
}
