package dev.shapeshift.worker.throttle;

import java.time.Duration;

/**
 * Health thresholds above which the backfill waits. Fixed at start (not live knobs).
 *
 * @param maxReplayLag    wait while a standby replays more than this behind (default 1s)
 * @param maxSlotLagBytes wait while the migration's slot holds more unconfirmed WAL (default 64 MiB): the
 *                        bridge must decode all of the backfill's WAL (in place, every row it
 *                        writes) before it reaches the application's changes behind it, so this
 *                        bound is what keeps the sync's lag at seconds while a backfill runs
 * @param maxLockTimeouts wait while this worker hit more lock timeouts in {@code lockWindow} (default 5)
 * @param lockWindow      the window lock timeouts are counted in (default 10s)
 * @param maxSyncBacklog  wait while the sync consumer is more changes behind (default 10000)
 * @param recheck         how long to wait before looking at a health signal again (default 1s)
 */
public record Limits(Duration maxReplayLag, long maxSlotLagBytes, int maxLockTimeouts, Duration lockWindow,
                     long maxSyncBacklog, Duration recheck) {

    public static final Limits DEFAULT = new Limits(Duration.ofSeconds(1), 64L << 20, 5, Duration.ofSeconds(10),
            10_000, Duration.ofSeconds(1));
}
