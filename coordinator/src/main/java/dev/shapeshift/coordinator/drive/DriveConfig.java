package dev.shapeshift.coordinator.drive;

import dev.shapeshift.coordinator.contract.Cleanup;
import io.soabase.recordbuilder.core.RecordBuilder;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.time.Duration;

/**
 * What the migration driver needs beyond the catalog. Validated at construction and frozen; changed
 * copies through the generated {@code withX} methods (record-builder), e.g. {@code on(bootstrap, 6).withTick(d)}.
 *
 * @param enabled          whether this coordinator drives migrations (default: on when Kafka is given)
 * @param bootstrapServers Kafka; required when enabled
 * @param partitions       partitions of a migration's topics, fixed when the driver creates them (default 6)
 * @param replication      replication factor of the topics the driver creates (default 1)
 * @param publication      the cdc-bridge's publication, for the clean-up after the contract (default shapeshift_pub)
 * @param tick             how often every migration's next step is chosen (default 1s)
 * @param stallAfter       no backfill progress (not paused) or no bridge for this long is reported as stalled (default 10m)
 * @param maxBackoff       the longest wait between retries of a failing step (default 5m)
 */
@RecordBuilder
public record DriveConfig(boolean enabled, String bootstrapServers, int partitions, short replication,
                          String publication, Duration tick, Duration stallAfter, Duration maxBackoff)
        implements DriveConfigBuilder.With {
    public static final int DEFAULT_PARTITIONS = 6;

    /** No driving: the coordinator serves the API only. */
    public static final DriveConfig OFF = new DriveConfig(false, null, DEFAULT_PARTITIONS, (short) 1, null, null, null, null);

    public DriveConfig {
        publication = publication == null ? Cleanup.DEFAULT_PUBLICATION : publication;
        tick = tick == null ? Duration.ofSeconds(1) : tick;
        stallAfter = stallAfter == null ? Duration.ofMinutes(10) : stallAfter;
        maxBackoff = maxBackoff == null ? Duration.ofMinutes(5) : maxBackoff;
        if (enabled && (bootstrapServers == null || bootstrapServers.isBlank())) {
            throw invalid("driving migrations needs Kafka: give --bootstrap HOST:PORT (or turn the driver off)");
        }
        if (partitions < 1) {
            throw invalid("--partitions must be at least 1, got " + partitions);
        }
        if (replication < 1) {
            throw invalid("--replication must be at least 1, got " + replication);
        }
        for (Duration d : new Duration[] {tick, stallAfter, maxBackoff}) {
            if (d.isNegative() || d.isZero()) {
                throw invalid("tick, stallAfter and maxBackoff must be positive");
            }
        }
    }

    /** Drives migrations through Kafka at {@code bootstrapServers}, with the defaults otherwise. */
    public static DriveConfig on(String bootstrapServers, int partitions) {
        return new DriveConfig(true, bootstrapServers, partitions, (short) 1, null, null, null, null);
    }

    private static ShapeshiftException invalid(String message) {
        return new ShapeshiftException(ErrorCode.CONFIG_INVALID, "coordinator config: " + message);
    }
}
