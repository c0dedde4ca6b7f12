package dev.shapeshift.worker.throttle;

import java.time.Duration;

/**
 * One snapshot of everything the throttle decides on. Collected by {@link SignalCollector}; built
 * by hand in tests.
 *
 * @param paused             operator setting {@code paused}
 * @param maxRowsPerSecond   operator setting {@code max-rows-per-second} (or the spec's), 0 = no cap;
 *                           a cap for the whole migration, shared by {@code liveWorkers}
 * @param liveWorkers        workers holding a live chunk lease (at least 1: this one)
 * @param replayLag          the largest standby replay lag, null when there is no standby
 * @param slotLagBytes       WAL not yet confirmed by the migration's slot, null when it has none
 * @param lockTimeouts       lock timeouts (and deadlocks) this worker hit in the recent window
 * @param syncBacklog        change events the sync consumer has not applied yet
 */
public record Signals(boolean paused, long maxRowsPerSecond, int liveWorkers, Duration replayLag,
                      Long slotLagBytes, int lockTimeouts, long syncBacklog) {

    public static final Signals CALM = new Signals(false, 0, 1, null, null, 0, 0);

    public Signals {
        liveWorkers = Math.max(1, liveWorkers);
    }

    public Signals withPaused(boolean p) {
        return new Signals(p, maxRowsPerSecond, liveWorkers, replayLag, slotLagBytes, lockTimeouts, syncBacklog);
    }

    public Signals withRateCap(long cap, int workers) {
        return new Signals(paused, cap, workers, replayLag, slotLagBytes, lockTimeouts, syncBacklog);
    }

    public Signals withReplayLag(Duration lag) {
        return new Signals(paused, maxRowsPerSecond, liveWorkers, lag, slotLagBytes, lockTimeouts, syncBacklog);
    }

    public Signals withSlotLag(Long bytes) {
        return new Signals(paused, maxRowsPerSecond, liveWorkers, replayLag, bytes, lockTimeouts, syncBacklog);
    }

    public Signals withLockTimeouts(int n) {
        return new Signals(paused, maxRowsPerSecond, liveWorkers, replayLag, slotLagBytes, n, syncBacklog);
    }

    public Signals withSyncBacklog(long n) {
        return new Signals(paused, maxRowsPerSecond, liveWorkers, replayLag, slotLagBytes, lockTimeouts, n);
    }

    /** This worker's share of the migration's rate cap, in rows per second; 0 = no cap. */
    public double workerRateCap() {
        return maxRowsPerSecond <= 0 ? 0 : (double) maxRowsPerSecond / liveWorkers;
    }
}
