package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.lang.reflect.RecordComponent;

/** The YAML names of spec record components (a component may be renamed by {@link JsonProperty}). */
public final class SpecFields {
    private SpecFields() {
    }

    public static String yamlName(RecordComponent c) {
        JsonProperty p = c.getAnnotation(JsonProperty.class);
        if (p == null) {
            p = c.getAccessor().getAnnotation(JsonProperty.class);
        }
        return p != null && !p.value().isEmpty() ? p.value() : c.getName();
    }
}
