package dev.shapeshift.worker.backfill;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.worker.throttle.Limits;
import java.time.Duration;

/**
 * How one backfill worker runs; fixed at start. The live knobs (pause, rate cap) are catalog
 * settings, not here.
 *
 * @param workerId        this worker's name in chunk leases and logs; unique per consumer
 * @param leaseTimeout    a chunk whose heartbeat is older may be taken by another worker (default 30s)
 * @param limits          health thresholds of the throttle
 * @param signalRefresh   how often settings and health signals are re-read (default 1s)
 * @param sessionTimeout  Kafka consumer session timeout: how soon a dead worker's partitions move (default 10s)
 * @param statusInterval  how often the one-line status is logged (default 5s)
 */
public record BackfillConfig(String workerId, Duration leaseTimeout, Limits limits, Duration signalRefresh,
                             Duration sessionTimeout, Duration statusInterval) {
    public BackfillConfig {
        if (workerId == null || workerId.isBlank()) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "a backfill worker needs a worker id (--worker-id)");
        }
        if (leaseTimeout.compareTo(Duration.ofSeconds(2)) < 0) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "lease timeout must be at least 2s, got " + leaseTimeout);
        }
        if (sessionTimeout.compareTo(Duration.ofSeconds(6)) < 0) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID,
                    "Kafka session timeout must be at least 6s (the broker's minimum), got " + sessionTimeout);
        }
    }

    /** The default lease timeout; the {@code worker} command's {@code --lease-timeout-ms} overrides it. */
    public static final Duration DEFAULT_LEASE_TIMEOUT = Duration.ofSeconds(30);

    public static BackfillConfig defaults(String workerId) {
        return new BackfillConfig(workerId, DEFAULT_LEASE_TIMEOUT, Limits.DEFAULT, Duration.ofSeconds(1),
                Duration.ofSeconds(10), Duration.ofSeconds(5));
    }

    public BackfillConfig withWorkerId(String id) {
        return new BackfillConfig(id, leaseTimeout, limits, signalRefresh, sessionTimeout, statusInterval);
    }

    public BackfillConfig withLeaseTimeout(Duration d) {
        return new BackfillConfig(workerId, d, limits, signalRefresh, sessionTimeout, statusInterval);
    }
}
