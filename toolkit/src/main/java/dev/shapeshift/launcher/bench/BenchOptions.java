package dev.shapeshift.launcher.bench;

import dev.shapeshift.spec.Mode;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@code shapeshift bench backfill} runs.
 *
 * @param rows        source rows
 * @param workers     worker counts to measure, one Shapeshift run each
 * @param mode        table or in place
 * @param chunkRows   {@code backfill.chunkRows} of the benchmark's migration
 * @param batchRows   {@code backfill.batchRows}: the first sub-batch size
 * @param partitions  partitions of the chunks topic (at least the largest worker count)
 * @param maxHeapGrowth {@code backfill.maxHeapGrowth} of the benchmark's migration (in place: VACUUM cadence)
 * @param shapes      also time statement shapes directly over JDBC (no Kafka, no catalog)
 * @param shapeConns  connection counts for the statement shapes
 * @param workerJvms  run each worker as a child JVM ({@code shapeshift worker --no-sync}) instead of a thread of this JVM
 * @param workerHeap  {@code -Xmx} of the child JVMs, e.g. {@code 256m}
 * @param out         directory of the result files
 * @param label       appended to the result file names ({@code -<label>}), empty for none
 * @param command     the command line as typed, for the report
 * @param peers       also time the peer loops of {@link PeerRuns} (pgroll-style, naive keyset) beside the baseline
 * @param naiveBatchRows rows per transaction of the naive keyset loop
 */
public record BenchOptions(long rows, List<Integer> workers, Mode mode, int chunkRows, int batchRows, int partitions,
                           double maxHeapGrowth, boolean shapes, List<Integer> shapeConns, boolean workerJvms, String workerHeap, Path out,
                           String label, String command, boolean peers, int naiveBatchRows) {
}
