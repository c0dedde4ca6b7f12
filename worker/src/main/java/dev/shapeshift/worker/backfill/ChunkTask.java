package dev.shapeshift.worker.backfill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Optional;

/**
 * A record of the chunks topic: {@code {"migration":"users","chunk":7}}, keyed by the chunk
 * number (written by the coordinator's {@code ChunkPublisher}).
 */
public record ChunkTask(String migration, int chunk) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Empty if the value is not a chunk task (the caller logs and skips it). */
    public static Optional<ChunkTask> parse(String value) {
        if (value == null) {
            return Optional.empty();
        }
        try {
            JsonNode n = JSON.readTree(value);
            if (n.path("migration").isTextual() && n.path("chunk").canConvertToInt()) {
                return Optional.of(new ChunkTask(n.get("migration").asText(), n.get("chunk").asInt()));
            }
        } catch (java.io.IOException e) {
            // falls through: not JSON
        }
        return Optional.empty();
    }
}
