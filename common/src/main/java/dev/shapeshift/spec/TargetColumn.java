package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;

/**
 * One column of the new shape.
 *
 * @param name         the column's name in the target
 * @param type         its SQL type; required when the expand DDL is generated, otherwise checked
 *                     against the column the DDL creates
 * @param transform    one SQL expression over source columns, evaluated by PostgreSQL
 * @param notNull      the column ends {@code NOT NULL}: staged after the backfill (default false)
 * @param unique       the column ends with a unique index of its own, built after the backfill (default false)
 * @param references   a foreign key the column ends with: after the backfill, once no row is an orphan, added
 *                     {@code NOT VALID} and validated
 * @param defaultValue the column's {@code DEFAULT} expression, set at the expand (new rows only, no rewrite)
 */
// Unset structure is left out of the stored spec's JSON, so a spec without it reads (and diffs) as before.
public record TargetColumn(String name, String type, String transform,
                           @JsonInclude(JsonInclude.Include.NON_DEFAULT) Boolean notNull,
                           @JsonInclude(JsonInclude.Include.NON_DEFAULT) Boolean unique,
                           @JsonInclude(JsonInclude.Include.NON_NULL) References references,
                           @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("default") String defaultValue) {
    @JsonCreator
    public TargetColumn {
        notNull = Objects.requireNonNullElse(notNull, false);
        unique = Objects.requireNonNullElse(unique, false);
    }

    /** A column without staged structure. */
    public TargetColumn(String name, String type, String transform) {
        this(name, type, transform, null, null, null, null);
    }

    /**
     * A foreign key of one target column.
     *
     * @param schema the referenced table's schema (default: the target's schema)
     * @param table  the referenced table
     * @param column the referenced column, which carries a primary key or a unique index on exactly it
     */
    public record References(String schema, String table, String column) {
    }
}
