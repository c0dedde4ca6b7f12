package dev.shapeshift.spec;

import java.time.Duration;
import java.util.Objects;

/**
 * How existing rows are copied.
 *
 * @param chunkRows           rows per chunk, the unit of work and of checkpoints (default 50000)
 * @param batchRows           first sub-batch size inside a chunk; adapted toward
 *                            {@code targetTransaction} afterwards (default 1000)
 * @param targetTransaction   the time one sub-batch transaction should take (default 300ms)
 * @param maxRowsPerSecond    live cap on copy rate, 0 for none (default 0)
 * @param lockTimeout         lock_timeout of worker transactions (default 200ms)
 * @param maxHeapGrowth       in-place mode: vacuum often enough to keep the heap below this multiple
 *                            of the compact size of its rows, i.e. bound the dead space (default 1.2:
 *                            a VACUUM every 10% of the rows)
 */
public record Backfill(
        Integer chunkRows,
        Integer batchRows,
        Duration targetTransaction,
        Long maxRowsPerSecond,
        Duration lockTimeout,
        Double maxHeapGrowth) {

    public Backfill {
        chunkRows = Objects.requireNonNullElse(chunkRows, 50_000);
        batchRows = Objects.requireNonNullElse(batchRows, 1_000);
        targetTransaction = Objects.requireNonNullElse(targetTransaction, Duration.ofMillis(300));
        maxRowsPerSecond = Objects.requireNonNullElse(maxRowsPerSecond, 0L);
        lockTimeout = Objects.requireNonNullElse(lockTimeout, Duration.ofMillis(200));
        maxHeapGrowth = Objects.requireNonNullElse(maxHeapGrowth, 1.2);
    }
}
