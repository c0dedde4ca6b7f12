package dev.shapeshift.spec;

import java.util.List;

/**
 * The new shape. In {@code in-place} mode {@code table} is the source table (and may be omitted);
 * in {@code table} mode it names a new table whose key columns are the source key columns, copied
 * as they are, and whose other columns are {@code columns}.
 */
public record Target(String schema, String table, List<TargetColumn> columns) {
    public Target {
        columns = columns == null ? List.of() : List.copyOf(columns);
    }
}
