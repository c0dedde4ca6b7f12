package dev.shapeshift.launcher.bench;

import java.util.List;

/**
 * One timed run on a fresh copy of the table. Nullable fields do not apply to every kind of run.
 *
 * @param name         what ran: {@code bulk}, {@code shapeshift}, or a statement shape
 * @param workers      concurrent workers or connections (1 for the bulk statement)
 * @param rows         rows the run read
 * @param seconds      wall time from the first statement (or the plan) to the last commit
 * @param walBytes     WAL generated during the run ({@code pg_wal_lsn_diff})
 * @param heapBefore   bytes of the written table's heap before
 * @param heapAfter    and after
 * @param indexBefore  bytes of its indexes before
 * @param indexAfter   and after
 * @param transactions committed sub-batch (or chunk) transactions
 * @param p50Ms        median transaction time
 * @param p99Ms        99th percentile transaction time
 * @param maxMs        slowest transaction
 * @param vacuums      in-place VACUUMs run by the workers' bloat guard
 * @param reLeases     chunk leases beyond one per chunk (rebalances, released chunks)
 * @param peakRssMb    peak resident memory of this JVM during the run (VmHWM; the JVM also hosts Kafka)
 * @param dbCpuSeconds CPU seconds of all PostgreSQL processes during the run (robust on a busy machine)
 * @param jvmCpuSeconds CPU seconds of this JVM (workers, and the embedded Kafka broker)
 * @param setupSeconds part of {@code seconds} spent planning and publishing the chunk tasks
 * @param idleMsPerChunk a worker's mean gap between finishing one chunk and starting its next
 * @param compactHeap  bytes of the heap of a compact copy of the written table's final rows (no dead space)
 * @param compactIndex bytes of the same copy's primary key index, built in one pass
 * @param workerPeakRssMb peak resident memory of each worker JVM (VmHWM), when the workers ran as child JVMs
 */
record Measurement(String name, int workers, long rows, double seconds, long walBytes, long heapBefore,
                   long heapAfter, long indexBefore, long indexAfter, Long transactions, Double p50Ms,
                   Double p99Ms, Double maxMs, Integer vacuums, Integer reLeases, Long peakRssMb,
                   double dbCpuSeconds, double jvmCpuSeconds, Double setupSeconds, Double idleMsPerChunk,
                   Long compactHeap, Long compactIndex, List<Long> workerPeakRssMb) {

    double rowsPerSecond() {
        return rows / Math.max(seconds, 1e-9);
    }

    /** Heap after ÷ the compact heap of the same rows: the bloat, net of rows that got wider; null if not measured. */
    Double heapBloat() {
        return compactHeap == null || compactHeap == 0 ? null : (double) heapAfter / compactHeap;
    }

    /** Index after ÷ the index built in one pass over the same rows; null if not measured. */
    Double indexBloat() {
        return compactIndex == null || compactIndex == 0 ? null : (double) indexAfter / compactIndex;
    }
}
