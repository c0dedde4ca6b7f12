package dev.shapeshift.coordinator.gate;

import java.time.Instant;

/** One row of {@code shapeshift.reconcile_run}, read directly from the catalog. */
public record ReconcileRun(long id, String status, Instant startedAt, Instant finishedAt, long rowsChecked,
                           long driftFound, String message) {
}
