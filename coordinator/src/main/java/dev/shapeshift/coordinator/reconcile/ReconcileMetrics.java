package dev.shapeshift.coordinator.reconcile;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The reconcile meters of one migration (tag {@code migration}; no per-key tags):
 * {@code shapeshift.reconcile.rows.checked} and {@code shapeshift.reconcile.ranges} (counters) and
 * {@code shapeshift.reconcile.progress} (gauge, 0..1, of the current or last run). Open drift has
 * one gauge, the coordinator's {@code shapeshift.migration.drift.open} (from the catalog, so it is
 * right on every coordinator, not only the one reconciling).
 */
final class ReconcileMetrics {
    private final Counter rowsChecked;
    private final Counter ranges;
    private final AtomicReference<Double> progress = new AtomicReference<>(0.0);

    ReconcileMetrics(MeterRegistry registry, String migration) {
        rowsChecked = Counter.builder("shapeshift.reconcile.rows.checked")
                .description("Source rows compared with the target").tag("migration", migration).register(registry);
        ranges = Counter.builder("shapeshift.reconcile.ranges")
                .description("Key ranges compared").tag("migration", migration).register(registry);
        Gauge.builder("shapeshift.reconcile.progress", progress, AtomicReference::get)
                .description("Fraction of the current reconcile run done (0..1)").tag("migration", migration)
                .register(registry);
    }

    void rangeDone(long rows) {
        ranges.increment();
        rowsChecked.increment(rows);
    }

    void progress(double fraction) {
        progress.set(fraction);
    }
}
