package dev.shapeshift.catalog;

import dev.shapeshift.phase.Phase;
import java.time.Instant;

/** One row of {@code shapeshift.migration}. */
public record MigrationRecord(String name, String specJson, String specSource, Phase phase, String message,
                              long version, String slotName, String startLsn, Instant createdAt,
                              Instant updatedAt, Instant phaseChangedAt) {
}
