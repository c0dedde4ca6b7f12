package dev.shapeshift.spec;

import java.util.List;

/**
 * The new shape. In {@code in-place} mode {@code table} is the source table (and may be omitted);
 * in {@code table} mode it names a new table whose key columns are the source key columns, copied
 * as they are, and whose other columns are {@code columns}. {@code indexes} and {@code checks} are
 * the structure the new shape ends with, staged after the backfill (docs/constraints.md). In
 * {@code sink} mode {@code sink} names the plugin that carries the new shape into another system.
 */
public record Target(String schema, String table, List<TargetColumn> columns, List<Index> indexes,
                     List<Check> checks, SinkTarget sink) {
    @com.fasterxml.jackson.annotation.JsonCreator
    public Target {
        columns = columns == null ? List.of() : List.copyOf(columns);
        indexes = indexes == null ? List.of() : List.copyOf(indexes);
        checks = checks == null ? List.of() : List.copyOf(checks);
    }

    public Target(String schema, String table, List<TargetColumn> columns) {
        this(schema, table, columns, null, null, null);
    }

    public Target(String schema, String table, List<TargetColumn> columns, List<Index> indexes, List<Check> checks) {
        this(schema, table, columns, indexes, checks, null);
    }

    /**
     * An index the new shape ends with, built {@code CONCURRENTLY} after the backfill.
     *
     * @param name    the index's name (default {@code <table>_<columns>_key} or {@code _idx})
     * @param columns the indexed columns of the target table, in order
     * @param unique  a unique index (default false); duplicates are listed as findings before it is built
     * @param where   a partial index's predicate over target columns
     */
    public record Index(String name, List<String> columns, Boolean unique, String where) {
        @com.fasterxml.jackson.annotation.JsonCreator
        public Index {
            columns = columns == null ? List.of() : List.copyOf(columns);
            unique = java.util.Objects.requireNonNullElse(unique, false);
        }
    }

    /**
     * A CHECK constraint the new shape ends with: after the backfill, once no row violates it, added
     * {@code NOT VALID} and validated (docs/constraints.md).
     *
     * @param name       the constraint's name (default {@code <table>_check<n>})
     * @param expression a boolean SQL expression over target columns
     */
    public record Check(String name, String expression) {
    }
}
