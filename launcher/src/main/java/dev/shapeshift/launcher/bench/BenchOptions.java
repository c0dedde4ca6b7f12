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
 * @param shapes      also time statement shapes directly over JDBC (no Kafka, no catalog)
 * @param shapeConns  connection counts for the statement shapes
 * @param out         directory of the result files
 * @param command     the command line as typed, for the report
 */
public record BenchOptions(long rows, List<Integer> workers, Mode mode, int chunkRows, int batchRows, int partitions,
                           boolean shapes, List<Integer> shapeConns, Path out, String command) {
}
