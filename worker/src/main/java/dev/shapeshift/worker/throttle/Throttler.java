package dev.shapeshift.worker.throttle;

import java.time.Duration;
import java.util.Locale;

/**
 * The throttle's one decision, a pure function of the signals: whether the next sub-batch waits,
 * for how long, and a reason an operator can read. Checked in order — operator pause, sync backlog,
 * standby lag, slot lag, lock timeouts, the application's load (active sessions, statement
 * latency, statement latency against its baseline), then the rate cap — and the first that holds wins.
 */
public final class Throttler {
    private Throttler() {
    }

    /**
     * @param rowsLastBatch      rows the previous sub-batch copied (0 before the first)
     * @param sinceLastBatchStart time since the previous sub-batch started
     */
    public static Decision decide(Signals s, Limits limits, long rowsLastBatch, Duration sinceLastBatchStart) {
        if (s.paused()) {
            return new Decision(limits.recheck(), "paused by operator");
        }
        if (s.syncBacklog() > limits.maxSyncBacklog()) {
            return new Decision(limits.recheck(), "sync behind: " + s.syncBacklog() + " changes");
        }
        if (s.replayLag() != null && s.replayLag().compareTo(limits.maxReplayLag()) > 0) {
            return new Decision(limits.recheck(), "standby replay lag " + seconds(s.replayLag()) + " > "
                    + seconds(limits.maxReplayLag()));
        }
        if (s.slotLagBytes() != null && s.slotLagBytes() > limits.maxSlotLagBytes()) {
            return new Decision(limits.recheck(), "slot lag " + bytes(s.slotLagBytes()));
        }
        if (s.lockTimeouts() > limits.maxLockTimeouts()) {
            return new Decision(limits.recheck(), "lock timeouts " + s.lockTimeouts() + " in last "
                    + limits.lockWindow().toSeconds() + "s");
        }
        Signals.Load load = s.load();
        if (load.maxActiveBackends() > 0 && load.activeBackends() != null
                && load.activeBackends() > load.maxActiveBackends()) {
            return new Decision(limits.recheck(), "load: " + load.activeBackends() + " active sessions > "
                    + load.maxActiveBackends());
        }
        if (load.maxAppLatencyMs() > 0 && load.appLatencyMs() != null && load.appLatencyMs() > load.maxAppLatencyMs()) {
            return new Decision(limits.recheck(), String.format(Locale.ROOT, "load: application statements %.1f ms > %d ms",
                    load.appLatencyMs(), load.maxAppLatencyMs()));
        }
        Signals.LatencyCap pct = load.cap();
        if (pct.maxPct() > 0 && pct.measuring()) {
            return new Decision(limits.recheck(), "load: measuring the application's statement time before copying "
                    + "(baseline of the " + pct.maxPct() + "% cap)");
        }
        Double limit = pct.limitMs();
        if (limit != null && pct.windowMs() != null && pct.windowMs() > limit) {
            return new Decision(limits.recheck(), String.format(Locale.ROOT,
                    "load: application statements %.2f ms over 10s, +%.0f%% on %.2f ms before the backfill > %d%%",
                    pct.windowMs(), (pct.windowMs() / pct.baselineMs() - 1) * 100, pct.baselineMs(), pct.maxPct()));
        }
        double cap = s.workerRateCap();
        if (cap > 0 && rowsLastBatch > 0) {
            long dueMillis = (long) Math.ceil(rowsLastBatch * 1000.0 / cap);
            long wait = dueMillis - sinceLastBatchStart.toMillis();
            if (wait > 0) {
                return new Decision(Duration.ofMillis(wait), "rate cap " + s.maxRowsPerSecond() + " rows/s");
            }
        }
        return Decision.GO;
    }

    /**
     * The largest sub-batch the rate cap allows: half a second of this worker's share, so the rate
     * stays smooth rather than bursty; {@code Integer.MAX_VALUE} without a cap.
     */
    public static int maxBatchRows(Signals s) {
        double cap = s.workerRateCap();
        return cap <= 0 ? Integer.MAX_VALUE : (int) Math.max(1, cap / 2);
    }

    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1fs", d.toMillis() / 1000.0);
    }

    static String bytes(long b) {
        String[] units = {"B", "kB", "MB", "GB", "TB"};
        double v = b;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? b + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
