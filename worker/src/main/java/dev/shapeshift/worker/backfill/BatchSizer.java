package dev.shapeshift.worker.backfill;

import java.time.Duration;

/**
 * Sizes sub-batches so that they stay under a target transaction time: starts at
 * {@code backfill.batchRows}, then scales by (target × {@value #AIM}) / measured time, at most ×2
 * or ÷2 per step, within [{@value #MIN_ROWS}, chunkRows]. It aims at half the target, not at the
 * target: the same number of rows takes up to twice as long from one sub-batch to the next on a
 * busy server (p99 ÷ p50 of the sub-batch times was 1.9–3.6 in the backfill runs of
 * docs/performance.md), so a sizer aiming at the target sent about half its sub-batches over it.
 * A lock timeout halves the size (smaller transactions hold fewer locks).
 */
public final class BatchSizer {
    public static final int MIN_ROWS = 10;
    static final double MAX_STEP = 2.0;
    /** The fraction of the target a sub-batch is sized for. */
    static final double AIM = 0.5;

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
        double factor = target.toMillis() * AIM / ms;
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
