package dev.shapeshift.spec;

import java.util.List;

/**
 * The additive DDL of the new shape. Empty means: generated from the target columns
 * ({@code ALTER TABLE … ADD COLUMN} in place, {@code CREATE TABLE} in table mode).
 */
public record Expand(List<String> ddl) {
    public Expand {
        ddl = ddl == null ? List.of() : List.copyOf(ddl);
    }
}
