package dev.shapeshift.coordinator.contract;

import java.time.Instant;
import java.util.List;

/**
 * The old shape of a contracted migration, kept in {@code shapeshift_archive."<migration>"} until
 * it is dropped (row of {@code shapeshift.contract_archive}).
 *
 * @param columns in-place mode: the dropped columns with their type and default; empty in table mode
 */
public record Archive(String migration, String mode, String archiveTable, String sourceSchema, String sourceTable,
                      List<String> keyColumns, List<ArchivedColumn> columns, Instant archivedAt, Instant retainUntil,
                      Instant restoredAt, Instant droppedAt, String droppedBy) {
    public static final String SCHEMA = "shapeshift_archive";

    public Archive {
        keyColumns = List.copyOf(keyColumns);
        columns = List.copyOf(columns);
    }

    /** One dropped column as {@code format_type} and {@code pg_get_expr} described it; default may be null. */
    public record ArchivedColumn(String name, String type, String defaultExpr) {
    }

    public boolean inPlace() {
        return "in-place".equals(mode);
    }

    /** Whether the archived data still exists as a table Shapeshift can restore from. */
    public boolean restorable() {
        return droppedAt == null && (inPlace() || restoredAt == null);
    }
}
