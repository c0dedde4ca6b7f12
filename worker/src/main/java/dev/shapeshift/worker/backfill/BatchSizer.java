package dev.shapeshift.worker.backfill;

import java.time.Duration;

/**
 * Sizes sub-batches so that they stay under a target transaction time. It keeps an estimate of the
 * time per row and sizes the next sub-batch for (target × {@value #AIM}) at that rate, at most ×2 or
 * ÷2 per step, within [{@value #MIN_ROWS}, chunkRows], starting at {@code backfill.batchRows}.
 *
 * <p>The estimate is smoothed one way only: a sub-batch slower than the estimate sets it at once
 * (the next one shrinks), a faster one moves it by {@value #SMOOTHING} of the difference. A sizer
 * that trusts the last sub-batch alone doubles the spread of the times it gets: a sub-batch that ran
 * fast by chance makes the next one as much larger, and that one runs at the usual speed, so it
 * takes (usual ÷ lucky) × the aim. It aims at half the target for the spread that stays: the same
 * number of rows takes up to twice as long from one sub-batch to the next on a busy server (see
 * docs/backfill.md). A lock timeout halves the size (smaller transactions hold fewer locks).
 */
public final class BatchSizer {
    public static final int MIN_ROWS = 10;
    static final double MAX_STEP = 2.0;
    /** The fraction of the target a sub-batch is sized for. */
    static final double AIM = 0.5;
    /** How far one faster-than-estimated sub-batch moves the estimate of the time per row. */
    static final double SMOOTHING = 0.3;

    private final int max;
    private final Duration target;
    private final double smoothing;
    private int size;
    /** Milliseconds per row, NaN before the first sub-batch. */
    private double msPerRow = Double.NaN;

    public BatchSizer(int initial, int max, Duration target) {
        this(initial, max, target, SMOOTHING);
    }

    /** With {@code smoothing} 1 the estimate is the last sub-batch's rate alone (the sizer before the smoothing). */
    BatchSizer(int initial, int max, Duration target, double smoothing) {
        if (target.isZero() || target.isNegative()) {
            throw new IllegalArgumentException("backfill.targetTransaction must be positive, got " + target);
        }
        this.max = Math.max(MIN_ROWS, max);
        this.target = target;
        this.smoothing = smoothing;
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
        double aimMs = target.toMillis() * AIM;
        if (rowsRead < requested && ms < aimMs) {
            return;
        }
        double sample = (double) ms / Math.max(1, requested);
        msPerRow = Double.isNaN(msPerRow) || sample >= msPerRow
                ? sample
                : msPerRow + smoothing * (sample - msPerRow);
        double next = aimMs / msPerRow;
        next = Math.max(requested / MAX_STEP, Math.min(requested * MAX_STEP, next));
        size = clamp(Math.round(next));
    }

    public void lockTimedOut() {
        size = clamp(size / 2);
    }

    private int clamp(long rows) {
        return (int) Math.max(MIN_ROWS, Math.min(max, rows));
    }
}
