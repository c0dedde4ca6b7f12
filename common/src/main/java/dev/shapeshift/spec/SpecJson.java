package dev.shapeshift.spec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.json.Jackson;
import java.io.IOException;
import java.time.Duration;

/**
 * The JSON form of a {@link MigrationSpec} as stored in {@code shapeshift.migration.spec}: the
 * spec records as Jackson writes them, durations in the spec's own short form ({@code "300ms"}).
 */
public final class SpecJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addModule(new SimpleModule("shapeshift-spec-json")
                    .addSerializer(Duration.class,
                            Jackson.<Duration>serializer((d, g) -> g.writeString(DurationText.format(d))))
                    .addDeserializer(Duration.class, new JsonDeserializer<>() {
                        @Override
                        public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                            return DurationText.parse(p.getValueAsString());
                        }
                    }))
            .build();

    private SpecJson() {
    }

    public static String write(MigrationSpec spec) {
        return Jackson.write(MAPPER, spec,
                e -> new ShapeshiftException(ErrorCode.INTERNAL, "cannot write spec of " + spec.name() + " as JSON", e));
    }

    public static MigrationSpec read(String json) {
        try {
            return MAPPER.readValue(json, MigrationSpec.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED,
                    "the catalog's stored spec is not a readable migration spec: " + e.getMessage(), e);
        }
    }
}
