package dev.shapeshift.catalog;

import java.time.Instant;

/**
 * One row of {@code shapeshift.sync_stream}: a migration's changes partition as its owner last
 * wrote it.
 *
 * @param partitions      the changes topic's partition count as the owner saw it
 * @param appliedOffset   the last Kafka offset applied; null before the first batch
 * @param appliedLsn      source LSN ({@code X/Y}) of the newest change or heartbeat applied; null before the first
 * @param appliedCommitAt its source commit time
 * @param appliedAt       when that batch committed in the target
 * @param stopOffset      for {@link StreamState#STOPPED_POISON}: the offset of the record it waits at
 */
public record SyncStream(String migration, int partition, String owner, int partitions, StreamState state,
                         Long appliedOffset, String appliedLsn, Instant appliedCommitAt, Instant appliedAt,
                         Long stopOffset, String message, Instant updatedAt) {

    /** {@code partition:offset}, as {@code shapeshift sync skip} takes it; null unless stopped at a record. */
    public String stopPosition() {
        return stopOffset == null ? null : partition + ":" + stopOffset;
    }
}
