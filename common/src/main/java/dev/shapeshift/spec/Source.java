package dev.shapeshift.spec;

import java.util.List;
import java.util.Objects;

/**
 * The old shape's table.
 *
 * @param schema defaults to {@code public}
 * @param table  required
 * @param key    the key columns; defaults to the table's primary key (resolved by the validator)
 */
public record Source(String schema, String table, List<String> key) {
    public Source {
        schema = Objects.requireNonNullElse(schema, "public");
        key = key == null ? List.of() : List.copyOf(key);
    }
}
