package dev.shapeshift.spec;

import java.util.List;

/**
 * The additive DDL of the new shape. Empty means: generated from the target columns
 * ({@code ALTER TABLE … ADD COLUMN} in place, {@code CREATE TABLE} in table mode).
 *
 * @param ddl    the spec's own statements, checked against the shapes that lock or rewrite a busy table
 * @param unsafe when given, lets {@code ddl} through that check; its reason is logged at the expand
 */
public record Expand(List<String> ddl, Unsafe unsafe) {
    public Expand {
        ddl = ddl == null ? List.of() : List.copyOf(ddl);
    }

    /** Runs an {@code expand.ddl} the safety check refuses, for the reason given (a small table, a maintenance window). */
    public record Unsafe(String reason) {
    }
}
