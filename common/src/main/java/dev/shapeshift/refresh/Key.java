package dev.shapeshift.refresh;

import java.util.List;

/**
 * A source key: the text form of each key column, in key order. Text is the one representation
 * every key type (integer, text, uuid, composite) has; SQL casts it back to the column type.
 */
public record Key(List<String> values) {
    public Key {
        values = List.copyOf(values);
        if (values.isEmpty()) {
            throw new IllegalArgumentException("a key has at least one column");
        }
    }

    public static Key of(String... values) {
        return new Key(List.of(values));
    }

    public static Key of(long value) {
        return new Key(List.of(Long.toString(value)));
    }

    public int size() {
        return values.size();
    }

    public String get(int i) {
        return values.get(i);
    }
}
