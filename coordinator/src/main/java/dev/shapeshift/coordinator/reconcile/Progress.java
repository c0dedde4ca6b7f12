package dev.shapeshift.coordinator.reconcile;

import java.time.Duration;

/**
 * A run's progress from its counters: fraction of the estimated source rows checked, and the time
 * left at the rate so far. The estimate comes from statistics, so the fraction is capped below 1
 * until the run has actually finished.
 */
public record Progress(long rowsChecked, long estimatedRows, boolean finished, Duration elapsed) {

    /** 0..1. */
    public double fraction() {
        if (finished) {
            return 1.0;
        }
        if (estimatedRows <= 0) {
            return 0.0;
        }
        return Math.min(0.99, (double) rowsChecked / estimatedRows);
    }

    /** Time left at the average rate so far; null when unknown (nothing checked yet or no estimate). */
    public Duration eta() {
        if (finished) {
            return Duration.ZERO;
        }
        double f = fraction();
        if (f <= 0 || elapsed.isZero()) {
            return null;
        }
        return Duration.ofMillis((long) (elapsed.toMillis() * (1 - f) / f));
    }
}
