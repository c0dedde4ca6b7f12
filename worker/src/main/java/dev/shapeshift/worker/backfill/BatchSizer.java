package dev.shapeshift.worker.backfill;

import java.time.Duration;

/**
 * Sizes sub-batches toward a target transaction time: starts at {@code backfill.batchRows}, then
 * scales by target/measured time, at most ×2 or ÷2 per step, within [{@value #MIN_ROWS}, chunkRows].
 * A lock timeout halves the size (smaller transactions hold fewer locks).
 */
public final class BatchSizer {
    public static final int MIN_ROWS = 10;
    static final double MAX_STEP = 2.0;

    private final int max;
    private final Duration target;
    private int size;

    public BatchSizer(int initial, int max, Duration target) {
        if (target.isZero() || target.isNegative()) {
            throw new IllegalArgumentException("backfill.targetTransaction must be positive, got " + target);
        }
        this.max = Math.max(MIN_ROWS, max);
        this.target = target;
        this.size = clamp(initial);
    }

    public int size() {
        return size;
    }

    /**
     * Learns from one sub-batch that asked for {@code requested} rows and took {@code elapsed}. A
     * batch that ran short (end of the range) says little about speed and only counts if it was slow.
     */
    public void observe(int requested, long rowsRead, Duration elapsed) {
        long ms = Math.max(1, elapsed.toMillis());
        double factor = (double) target.toMillis() / ms;
        if (rowsRead < requested && factor > 1) {
            return;
        }
        factor = Math.max(1 / MAX_STEP, Math.min(MAX_STEP, factor));
        size = clamp((long) Math.round(requested * factor));
    }

    public void lockTimedOut() {
        size = clamp(size / 2);
    }

    private int clamp(long rows) {
        return (int) Math.max(MIN_ROWS, Math.min(max, rows));
    }
}
