package dev.shapeshift.coordinator.reconcile;

import java.time.Duration;

/**
 * Keeps a run at or below {@code maxRowsPerSecond} over all its sessions: before the next range is
 * handed out, the wait until the rows handed out so far fit the cap at the average rate since the
 * start of the run. Pure arithmetic; 0 means no cap.
 */
record Pacer(long maxRowsPerSecond) {
    Pacer {
        if (maxRowsPerSecond < 0) {
            throw new IllegalArgumentException("maxRowsPerSecond must be >= 0, got " + maxRowsPerSecond);
        }
    }

    /** How long to sleep after {@code rows} rows took {@code elapsed}. */
    Duration pauseAfter(long rows, Duration elapsed) {
        if (maxRowsPerSecond == 0 || rows <= 0) {
            return Duration.ZERO;
        }
        long dueMillis = rows * 1000 / maxRowsPerSecond;
        long pause = dueMillis - elapsed.toMillis();
        return pause > 0 ? Duration.ofMillis(pause) : Duration.ZERO;
    }
}
