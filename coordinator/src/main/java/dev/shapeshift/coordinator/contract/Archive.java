package dev.shapeshift.coordinator.contract;

import java.time.Instant;
import java.util.List;

/**
 * The old shape of a contracted migration, kept in {@code shapeshift_archive."<migration>"} until
 * it is dropped (row of {@code shapeshift.contract_archive}).
 *
 * @param columns          in-place mode: the dropped columns with their type, default and NOT NULL; empty in table mode
 * @param structure        in-place mode: the indexes and constraints on the dropped columns, recreated by a restore
 * @param restoreStartedAt when a restore put the columns back and started refilling them; null before
 * @param restoredRows     rows a restore refilled so far (its checkpoint moves with them)
 */
public record Archive(String migration, String mode, String archiveTable, String sourceSchema, String sourceTable,
                      List<String> keyColumns, List<ArchivedColumn> columns, Instant archivedAt, Instant retainUntil,
                      Instant restoredAt, Instant droppedAt, String droppedBy, List<ArchivedStructure> structure,
                      Instant restoreStartedAt, long restoredRows) {
    public static final String SCHEMA = "shapeshift_archive";

    public Archive {
        keyColumns = List.copyOf(keyColumns);
        columns = List.copyOf(columns);
        structure = structure == null ? List.of() : List.copyOf(structure);
    }

    /**
     * One dropped column as {@code format_type} and {@code pg_get_expr} described it; default may be
     * null. {@code notNull} is false for archives written before it was recorded.
     */
    public record ArchivedColumn(String name, String type, String defaultExpr, boolean notNull) {
    }

    /**
     * An index or constraint of the old shape on a dropped column, as the database printed it at the
     * contract ({@code pg_get_indexdef}, {@code pg_get_constraintdef}).
     *
     * @param kind            {@code index}, {@code unique}, {@code primary-key}, {@code check},
     *                        {@code foreign-key} or {@code exclusion}
     * @param definition      the index's {@code CREATE INDEX}, or the constraint's definition
     * @param indexDefinition for {@code unique} and {@code primary-key}: the {@code CREATE UNIQUE INDEX}
     *                        of the index behind it (built concurrently first); else null
     */
    public record ArchivedStructure(String kind, String name, String definition, String indexDefinition) {
    }

    public boolean inPlace() {
        return "in-place".equals(mode);
    }

    /** Whether the archived data still exists as a table Shapeshift can restore from. */
    public boolean restorable() {
        return droppedAt == null && (inPlace() || restoredAt == null);
    }
}
