package dev.shapeshift.spec;

import java.util.List;

/**
 * A spec checked against the live database, with what the database told us: the key columns
 * (in key order, with their types) and all source columns. Only a resolved spec reaches SQL.
 */
public record ResolvedSpec(MigrationSpec spec, List<Column> key, List<Column> sourceColumns) {
    public ResolvedSpec {
        key = List.copyOf(key);
        sourceColumns = List.copyOf(sourceColumns);
    }

    public List<String> keyNames() {
        return key.stream().map(Column::name).toList();
    }
}
