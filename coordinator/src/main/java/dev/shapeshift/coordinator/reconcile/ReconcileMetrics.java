package dev.shapeshift.coordinator.reconcile;

import dev.shapeshift.catalog.DriftStore.Kind;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The reconcile meters of one migration (tag {@code migration}; no per-key tags):
 * {@code shapeshift.reconcile.rows.checked} and {@code shapeshift.reconcile.ranges} (counters),
 * {@code shapeshift.drift.open} (gauge, tag {@code kind}) and {@code shapeshift.reconcile.progress}
 * (gauge, 0..1, of the current or last run).
 */
final class ReconcileMetrics {
    private final Counter rowsChecked;
    private final Counter ranges;
    private final Map<Kind, AtomicLong> open = new EnumMap<>(Kind.class);
    private final AtomicReference<Double> progress = new AtomicReference<>(0.0);

    ReconcileMetrics(MeterRegistry registry, String migration) {
        rowsChecked = Counter.builder("shapeshift.reconcile.rows.checked").baseUnit("rows")
                .description("Source rows compared with the target").tag("migration", migration).register(registry);
        ranges = Counter.builder("shapeshift.reconcile.ranges").baseUnit("ranges")
                .description("Key ranges compared").tag("migration", migration).register(registry);
        for (Kind k : Kind.values()) {
            AtomicLong value = new AtomicLong();
            open.put(k, value);
            Gauge.builder("shapeshift.drift.open", value, AtomicLong::get).baseUnit("keys")
                    .description("Keys with confirmed, unresolved drift").tag("migration", migration)
                    .tag("kind", k.label()).register(registry);
        }
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

    void openDrift(Map<Kind, Long> counts) {
        counts.forEach((k, n) -> open.get(k).set(n));
    }
}
