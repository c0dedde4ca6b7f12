package dev.shapeshift.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonMapsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Reader(String name, long calls, Instant lastSeen) {
    }

    @Test
    void orderedWritesItsKeysInTheOrderGivenWithNulls() throws Exception {
        assertThat(JSON.writeValueAsString(JsonMaps.ordered("migration", "users", "done", List.of("a"), "left", null)))
                .isEqualTo("{\"migration\":\"users\",\"done\":[\"a\"],\"left\":null}");
        assertThatThrownBy(() -> JsonMaps.ordered("migration")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pairs");
    }

    @Test
    void aRecordIsWrittenInDeclarationOrderWithInstantsAsText() throws Exception {
        assertThat(JSON.writeValueAsString(JsonMaps.of(new Reader("app", 3, Instant.parse("2026-01-01T00:00:00Z")))))
                .isEqualTo("{\"name\":\"app\",\"calls\":3,\"lastSeen\":\"2026-01-01T00:00:00Z\"}");
        assertThat(JsonMaps.of(new Reader("app", 3, null))).containsEntry("lastSeen", "null");
    }
}
