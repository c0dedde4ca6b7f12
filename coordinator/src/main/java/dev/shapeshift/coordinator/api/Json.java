package dev.shapeshift.coordinator.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.shapeshift.json.Jackson;
import java.time.Duration;
import java.time.Instant;

/** The API's JSON (also used by the CLI's --output json): instants as ISO-8601 text, durations as seconds. */
public final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addModule(new SimpleModule("shapeshift-api")
                    .addSerializer(Instant.class, ToStringSerializer.instance)
                    .addSerializer(Duration.class,
                            Jackson.<Duration>serializer((d, g) -> g.writeNumber(d.toMillis() / 1000.0))))
            .build();

    private Json() {
    }

    public static String write(Object value) {
        return Jackson.write(MAPPER, value, e -> new IllegalStateException("cannot write API response as JSON", e));
    }
}
