package dev.shapeshift.worker.sync;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.time.Duration;

/**
 * How a worker's sync consumer ({@link SyncConsumer}) runs; checked when made, so a bad value is a
 * configuration error at start, not a failure later.
 *
 * @param bootstrapServers  Kafka
 * @param workerId          this worker's name, used as the Kafka client id
 * @param maxPollRecords    change events per poll, the upper bound of one refresh batch (default 2000)
 * @param keysPerStatement  distinct keys per refresh statement (and transaction) inside a batch (default 1000)
 * @param pollTimeout       how long one poll waits for events (default 50ms)
 * @param sessionTimeout    Kafka session timeout: how soon a dead worker's partitions move (default 10s, min 6s)
 * @param idleInTransaction {@code idle_in_transaction_session_timeout} of the sync connection: a worker frozen
 *                          inside a transaction (GC, SIGSTOP) loses its session and its row locks after this,
 *                          so it never blocks the application for long (default 5s)
 * @param visibilityBarrier wait until a batch's source transactions are visible before refreshing it
 *                          ({@link dev.shapeshift.refresh.VisibilityBarrier}); always on, except in the negative controls of the
 *                          tests that show why it exists (off loses changes)
 */
public record SyncConfig(String bootstrapServers, String workerId, int maxPollRecords, int keysPerStatement,
                         Duration pollTimeout, Duration sessionTimeout, Duration idleInTransaction,
                         boolean visibilityBarrier) {
    public SyncConfig {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "sync needs Kafka bootstrap servers (--bootstrap)");
        }
        if (workerId == null || workerId.isBlank()) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "sync needs a worker id (--worker-id)");
        }
        if (maxPollRecords < 1 || keysPerStatement < 1) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "maxPollRecords and keysPerStatement must be "
                    + "positive, got " + maxPollRecords + " and " + keysPerStatement);
        }
        if (sessionTimeout.compareTo(Duration.ofSeconds(6)) < 0) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID,
                    "Kafka session timeout must be at least 6s (the broker's minimum), got " + sessionTimeout);
        }
        if (idleInTransaction.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID,
                    "idle-in-transaction timeout must be at least 1s, got " + idleInTransaction);
        }
    }

    public static SyncConfig defaults(String bootstrapServers, String workerId) {
        return new SyncConfig(bootstrapServers, workerId, 2000, 1000, Duration.ofMillis(50), Duration.ofSeconds(10),
                Duration.ofSeconds(5), true);
    }

    public SyncConfig withSessionTimeout(Duration d) {
        return new SyncConfig(bootstrapServers, workerId, maxPollRecords, keysPerStatement, pollTimeout, d,
                idleInTransaction, visibilityBarrier);
    }

    /** Negative controls only: refreshes batches without waiting for their transactions to be visible. */
    public SyncConfig withoutVisibilityBarrier() {
        return new SyncConfig(bootstrapServers, workerId, maxPollRecords, keysPerStatement, pollTimeout, sessionTimeout,
                idleInTransaction, false);
    }
}
