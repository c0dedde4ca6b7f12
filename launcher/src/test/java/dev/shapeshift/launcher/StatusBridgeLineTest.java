package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bridge line of {@code shapeshift status MIGRATION}: who leads the slot, or that nobody does. */
class StatusBridgeLineTest {
    private static String line(Map<String, Object> bridge) {
        StringWriter w = new StringWriter();
        StatusCommand.bridge(new PrintWriter(w, true), Map.of("bridge", bridge, "workers", List.of()));
        return w.toString();
    }

    @Test
    void namesTheLeaderOrItsAbsence() {
        Map<String, Object> led = new LinkedHashMap<>();
        led.put("slot", "shapeshift_app");
        led.put("leader", Map.of("pid", 4242, "client", "10.0.0.7", "sessionStart", Instant.parse("2026-12-06T03:00:00Z")));
        led.put("bridgeSessions", 2);
        assertThat(line(led)).isEqualTo("  bridge slot=shapeshift_app leader pid=4242 from 10.0.0.7 (session since "
                + "2026-12-06T03:00:00Z), 2 bridge session(s) connected" + System.lineSeparator());
        Map<String, Object> none = new LinkedHashMap<>(led);
        none.put("leader", null);
        none.put("bridgeSessions", 0);
        assertThat(line(none)).contains("NO LEADER").contains("0 bridge session(s)");
        Map<String, Object> noSlot = new LinkedHashMap<>(none);
        noSlot.put("slot", null);
        assertThat(line(noSlot)).isEmpty();
    }
}
