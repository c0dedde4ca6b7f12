package dev.shapeshift.spec;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A spec checked against the live database, with what the database told us: the key columns
 * (in key order, with their types), all source columns, and the {@code format_type} of every
 * target column that exists already ({@code targetTypes}, by name: the column the write assigns
 * to; empty before the expand and for a sink). Only a resolved spec reaches SQL; the one renderer
 * of its transforms is {@code dev.shapeshift.refresh.TransformSql}.
 */
public record ResolvedSpec(MigrationSpec spec, List<Column> key, List<Column> sourceColumns,
                           Map<String, String> targetTypes) {
    public ResolvedSpec {
        key = List.copyOf(key);
        sourceColumns = List.copyOf(sourceColumns);
        targetTypes = Map.copyOf(targetTypes);
    }

    /** Resolved without the target columns' live types: every transform is cast to the spec's {@code type} only. */
    public ResolvedSpec(MigrationSpec spec, List<Column> key, List<Column> sourceColumns) {
        this(spec, key, sourceColumns, Map.of());
    }

    public List<String> keyNames() {
        return key.stream().map(Column::name).toList();
    }

    /** The live type of a target column, or null when it was not read (or the column does not exist yet). */
    public String targetType(String column) {
        return targetTypes.get(column);
    }

    /** This spec with these live types of target columns (added to, and overriding, the ones it has). */
    public ResolvedSpec withTargetTypes(Map<String, String> types) {
        Map<String, String> merged = new LinkedHashMap<>(targetTypes);
        merged.putAll(types);
        return new ResolvedSpec(spec, key, sourceColumns, merged);
    }

    /**
     * This spec with the live types of its target columns read from the database (the source table
     * in place, the target table in table mode; nothing for a sink). A column that does not exist
     * is left out.
     */
    public ResolvedSpec withLiveTargetTypes(Connection c) throws SQLException {
        if (spec.mode() == Mode.SINK) {
            return this;
        }
        String schema = spec.mode() == Mode.IN_PLACE ? spec.source().schema() : spec.targetSchema();
        String table = spec.mode() == Mode.IN_PLACE ? spec.source().table() : spec.targetTable();
        return withTargetTypes(targetTypesOf(new SourceCatalog(c).columns(schema, table).stream()
                .collect(Collectors.toMap(SourceCatalog.CatalogColumn::name, SourceCatalog.CatalogColumn::type))));
    }

    /** The target columns among {@code live} (name → {@code format_type}). */
    Map<String, String> targetTypesOf(Map<String, String> live) {
        Set<String> names = spec.target().columns().stream().map(TargetColumn::name).collect(Collectors.toSet());
        Map<String, String> out = new LinkedHashMap<>();
        live.forEach((name, type) -> {
            if (names.contains(name)) {
                out.put(name, type);
            }
        });
        return out;
    }
}
