package dev.shapeshift.catalog;

import java.time.Instant;

/** One row of {@code shapeshift.audit}: who did what to which migration, and why. */
public record AuditEntry(long id, Instant at, String migration, String actor, String action,
                         String fromPhase, String toPhase, String reason, String detailsJson) {
}
