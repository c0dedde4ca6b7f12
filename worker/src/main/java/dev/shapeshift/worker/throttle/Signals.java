package dev.shapeshift.worker.throttle;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.time.Duration;

/**
 * One snapshot of everything the throttle decides on. Collected by {@link SignalCollector}; built
 * by hand in tests, from {@link #CALM} with the generated {@code withX} copies.
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
@RecordBuilder
public record Signals(boolean paused, long maxRowsPerSecond, int liveWorkers, Duration replayLag,
                      Long slotLagBytes, int lockTimeouts, long syncBacklog, Load load)
        implements SignalsBuilder.With {

    public static final Signals CALM = new Signals(false, 0, 1, null, null, 0, 0, Load.NONE);

    /**
     * The load throttle's signals (issue 18, in the spirit of gh-ost's {@code --max-load}).
     *
     * @param maxActiveBackends knob {@code max-active-backends}, 0 = off
     * @param activeBackends    sessions of others running a statement now; null when not read
     * @param maxAppLatencyMs   knob {@code max-app-latency-ms}, 0 = off
     * @param appLatencyMs      mean time per statement of roles other than Shapeshift's since the
     *                          previous look; null when not read, unreadable, or no statement ran
     * @param cap               the relative cap {@code max-app-latency-pct} and what it compares
     */
    public record Load(long maxActiveBackends, Integer activeBackends, long maxAppLatencyMs, Double appLatencyMs,
                       LatencyCap cap) {
        public static final Load NONE = new Load(0, null, 0, null);

        public Load(long maxActiveBackends, Integer activeBackends, long maxAppLatencyMs, Double appLatencyMs) {
            this(maxActiveBackends, activeBackends, maxAppLatencyMs, appLatencyMs, LatencyCap.OFF);
        }
    }

    /**
     * The team's cap on the backfill's cost: the application's statements may take at most
     * {@code maxPct} % longer than before the backfill copied.
     *
     * @param maxPct     knob {@code max-app-latency-pct}, 0 = off
     * @param baselineMs the application's mean statement time before the backfill copied; null while
     *                   it is being measured or when {@code pg_stat_statements} cannot be read
     * @param measuring  true while the baseline is being measured (the backfill waits meanwhile)
     * @param windowMs   the application's mean statement time over the last 10 s; null when no
     *                   statement of the application finished in it or it was not read
     */
    public record LatencyCap(long maxPct, Double baselineMs, boolean measuring, Double windowMs) {
        public static final LatencyCap OFF = new LatencyCap(0, null, false, null);

        /** The statement time above which the backfill waits; null when the cap is off or has no baseline. */
        public Double limitMs() {
            return maxPct <= 0 || baselineMs == null ? null : baselineMs * (1 + maxPct / 100.0);
        }
    }

    public Signals {
        liveWorkers = Math.max(1, liveWorkers);
    }

    /** This worker's share of the migration's rate cap, in rows per second; 0 = no cap. */
    public double workerRateCap() {
        return maxRowsPerSecond <= 0 ? 0 : (double) maxRowsPerSecond / liveWorkers;
    }
}
