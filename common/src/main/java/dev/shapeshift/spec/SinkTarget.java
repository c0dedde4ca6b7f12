package dev.shapeshift.spec;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sink a {@code sink}-mode migration writes its new shape to (docs/sinks.md).
 *
 * @param name     the plugin's {@link dev.shapeshift.sink.SinkProvider#name()}
 * @param settings the plugin's settings, checked by the plugin's own
 *                 {@link dev.shapeshift.sink.SinkProvider#validate}
 */
public record SinkTarget(String name, Map<String, String> settings) {
    public SinkTarget {
        settings = settings == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    }
}
