package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The demo's and the benchmarks' Logback configuration ({@code logback-demo.xml}, which only this
 * module's jar carries): the same line formats as the roles' (LogsTest in module launcher), with
 * Kafka quiet.
 */
class DemoLogsTest {

    /** A fresh context configured from logback-demo.xml in {@code format}. */
    private static LoggerContext demoContext(Logs.Format format) {
        LoggerContext demo = new LoggerContext();
        demo.setMDCAdapter(new LogbackMDCAdapter());
        try {
            assertThat(Logs.apply(demo, Logs.DEMO, format)).isTrue();
        } finally {
            System.clearProperty(Logs.APPENDER_PROPERTY);
        }
        return demo;
    }

    /** The stderr of one worker INFO event under logback-demo.xml. */
    private static String workerStarted(Logs.Format format) {
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            LoggerContext demo = demoContext(format);
            demo.getLogger("dev.shapeshift.worker.Worker").info("worker started worker={} migrations={}", "w1", 2);
            demo.stop();
        } finally {
            System.setErr(stderr);
        }
        return captured.toString(StandardCharsets.UTF_8).strip();
    }

    @Test
    void textLinesCarryAnIso8601TimeWithDateAndZone() {
        String line = workerStarted(Logs.Format.TEXT);
        assertThat(line).endsWith("INFO  [main] d.s.worker.Worker - worker started worker=w1 migrations=2");
        String time = line.substring(0, line.indexOf(' '));
        assertThat(OffsetDateTime.parse(time)).as("parses as ISO-8601 with an offset: " + time).isNotNull();
        assertThat(time).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2})");
    }

    @Test
    void jsonIsOneObjectPerLine() throws Exception {
        String line = workerStarted(Logs.Format.JSON);
        assertThat(line.lines()).as("one line: " + line).hasSize(1);
        JsonNode event = new ObjectMapper().readTree(line);
        Map<String, String> fields = new TreeMap<>();
        for (String name : List.of("level", "loggerName", "formattedMessage")) {
            fields.put(name, event.path(name).asText());
        }
        assertThat(fields).containsExactlyEntriesOf(new TreeMap<>(Map.of("level", "INFO",
                "loggerName", "dev.shapeshift.worker.Worker", "formattedMessage", "worker started worker=w1 migrations=2")));
        assertThat(event.path("timestamp").asLong()).as("epoch milliseconds").isPositive();
    }

    @Test
    void theDemoDoesNotSeeKafkaWarnings() {
        LoggerContext demo = demoContext(Logs.Format.TEXT);
        assertThat(demo.getLogger("org.apache.kafka.clients.NetworkClient").getEffectiveLevel()).isEqualTo(Level.ERROR);
        assertThat(Logs.configurationFor("demo")).isEqualTo(Logs.DEMO);
        assertThat(Logs.configurationFor("bench")).isEqualTo(Logs.DEMO);
    }
}
