package dev.shapeshift.worker.throttle;

/**
 * How far the migration's sync consumer is behind, in change events not yet applied. Sync has
 * priority over backfill: while it is far behind, the backfill waits. The sync consumer implements
 * this; {@link #NONE} is for workers that run no sync.
 */
@FunctionalInterface
public interface SyncBacklog {
    SyncBacklog NONE = () -> 0;

    long pendingChanges();
}
