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
 * @param load               the application's load on the server and the caps on it
 */
public record Signals(boolean paused, long maxRowsPerSecond, int liveWorkers, Duration replayLag,
                      Long slotLagBytes, int lockTimeouts, long syncBacklog, Load load) {

    public static final Signals CALM = new Signals(false, 0, 1, null, null, 0, 0, Load.NONE);

    /**
     * The load throttle's signals (issue 18, in the spirit of gh-ost's {@code --max-load}).
     *
     * @param maxActiveBackends knob {@code max-active-backends}, 0 = off
     * @param activeBackends    sessions of others running a statement now; null when not read
     * @param maxAppLatencyMs   knob {@code max-app-latency-ms}, 0 = off
     * @param appLatencyMs      mean time per statement of roles other than Shapeshift's since the
     *                          previous look; null when not read, unreadable, or no statement ran
     */
    public record Load(long maxActiveBackends, Integer activeBackends, long maxAppLatencyMs, Double appLatencyMs) {
        public static final Load NONE = new Load(0, null, 0, null);
    }

    public Signals {
        liveWorkers = Math.max(1, liveWorkers);
    }

    public Signals withPaused(boolean p) {
        return new Signals(p, maxRowsPerSecond, liveWorkers, replayLag, slotLagBytes, lockTimeouts, syncBacklog, load);
    }

    public Signals withRateCap(long cap, int workers) {
        return new Signals(paused, cap, workers, replayLag, slotLagBytes, lockTimeouts, syncBacklog, load);
    }

    public Signals withReplayLag(Duration lag) {
        return new Signals(paused, maxRowsPerSecond, liveWorkers, lag, slotLagBytes, lockTimeouts, syncBacklog, load);
    }

    public Signals withSlotLag(Long bytes) {
        return new Signals(paused, maxRowsPerSecond, liveWorkers, replayLag, bytes, lockTimeouts, syncBacklog, load);
    }

    public Signals withLockTimeouts(int n) {
        return new Signals(paused, maxRowsPerSecond, liveWorkers, replayLag, slotLagBytes, n, syncBacklog, load);
    }

    public Signals withSyncBacklog(long n) {
        return new Signals(paused, maxRowsPerSecond, liveWorkers, replayLag, slotLagBytes, lockTimeouts, n, load);
    }

    public Signals withLoad(Load l) {
        return new Signals(paused, maxRowsPerSecond, liveWorkers, replayLag, slotLagBytes, lockTimeouts, syncBacklog, l);
    }

    /** This worker's share of the migration's rate cap, in rows per second; 0 = no cap. */
    public double workerRateCap() {
        return maxRowsPerSecond <= 0 ? 0 : (double) maxRowsPerSecond / liveWorkers;
    }
}
