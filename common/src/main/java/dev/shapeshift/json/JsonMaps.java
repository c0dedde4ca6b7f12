package dev.shapeshift.json;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A record as a JSON-ready map, for the outputs that write maps through mappers without a time
 * module ({@code shapeshift evidence --output json}) and the API that writes the same maps: one
 * entry per component, in declaration order, under the component's name. An {@link Instant} is
 * written as its ISO-8601 text, {@code "null"} when absent (what {@code String.valueOf} gives, the
 * form these outputs have always had); every other value as it is, so a component that needs a
 * different form (a nested list of records) is replaced by the caller, in place.
 */
public final class JsonMaps {
    private JsonMaps() {
    }

    /** {@code r}'s components as a mutable, ordered map. */
    public static Map<String, Object> of(Record r) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Object v = value(r, c);
            m.put(c.getName(), c.getType() == Instant.class ? String.valueOf(v) : v);
        }
        return m;
    }

    /**
     * An ordered map of {@code key, value, key, value, …}: a JSON object written in that order every
     * time ({@code Map.of} with more than one entry iterates in an order that changes from one JVM
     * run to the next). Values may be null.
     */
    public static Map<String, Object> ordered(Object... keysAndValues) {
        if (keysAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("keys and values come in pairs, got " + keysAndValues.length + " items");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** Each record of {@code rs} as {@link #of}. */
    public static List<Map<String, Object>> each(List<? extends Record> rs) {
        return rs.stream().map(JsonMaps::of).toList();
    }

    private static Object value(Record r, RecordComponent c) {
        try {
            java.lang.reflect.Method accessor = c.getAccessor();
            accessor.setAccessible(true);
            return accessor.invoke(r);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + r.getClass().getSimpleName() + "." + c.getName(), e);
        }
    }
}
