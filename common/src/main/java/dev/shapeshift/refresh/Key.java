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

    /**
     * The keys transposed into one array per key column, the form the refresh and compare
     * statements bind ({@code unnest(?::text[]::type[], …)}).
     */
    public static String[][] columns(java.util.Collection<Key> keys, int width) {
        String[][] columns = new String[width][keys.size()];
        int row = 0;
        for (Key k : keys) {
            if (k.size() != width) {
                throw new IllegalArgumentException("key " + k + " has " + k.size() + " columns, expected " + width);
            }
            for (int i = 0; i < width; i++) {
                columns[i][row] = k.get(i);
            }
            row++;
        }
        return columns;
    }

    public int size() {
        return values.size();
    }

    public String get(int i) {
        return values.get(i);
    }
}
