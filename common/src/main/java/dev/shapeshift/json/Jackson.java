package dev.shapeshift.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import java.io.IOException;
import java.util.function.Function;

/** What the project's own mappers (the stored spec's, the API's) share: custom value forms and writing text. */
public final class Jackson {
    private Jackson() {
    }

    /** How one value is written. */
    @FunctionalInterface
    public interface Writer<T> {
        void write(T value, JsonGenerator g) throws IOException;
    }

    /** A serializer that writes every value with {@code writer} (for {@code SimpleModule.addSerializer}). */
    public static <T> JsonSerializer<T> serializer(Writer<T> writer) {
        return new JsonSerializer<>() {
            @Override
            public void serialize(T value, JsonGenerator g, SerializerProvider p) throws IOException {
                writer.write(value, g);
            }
        };
    }

    /** {@code value} as JSON text; when the mapper cannot write it, the exception {@code failure} makes of why. */
    public static String write(ObjectMapper mapper, Object value,
                               Function<JsonProcessingException, RuntimeException> failure) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw failure.apply(e);
        }
    }
}
