package dev.shapeshift.sink;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A source key: one value per key column ({@link SinkContext#keyColumns()}), each in
 * PostgreSQL's text form ({@code 42}, {@code 7f0c…-…}, {@code fr}). Key columns are never NULL.
 * Equal keys have equal values, so a sink can use it as a map key.
 */
public record SinkKey(List<String> values) {
    public SinkKey {
        Objects.requireNonNull(values, "values");
        List<String> copy = new ArrayList<>(values.size());
        for (String v : values) {
            copy.add(Objects.requireNonNull(v, "key values are never null"));
        }
        values = Collections.unmodifiableList(copy);
    }

    public static SinkKey of(String... values) {
        return new SinkKey(List.of(values));
    }

    @Override
    public String toString() {
        return values.size() == 1 ? values.get(0) : values.toString();
    }
}
