package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The roles' Logback configuration, in text and JSON, on a context of its own (the demo's: DemoLogsTest in module toolkit). */
class LogsTest {
    private final PrintStream stderr = System.err;

    @AfterEach
    void restore() {
        System.setErr(stderr);
        System.clearProperty(Logs.APPENDER_PROPERTY);
    }

    private static LoggerContext context() {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        return context;
    }

    /** What one INFO line of Shapeshift looks like on stderr under {@code resource} in {@code format}. */
    private String logOneLine(String resource, Logs.Format format) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        LoggerContext context = context();
        assertThat(Logs.apply(context, resource, format)).isTrue();
        context.getLogger("dev.shapeshift.worker.Worker").info("worker started worker={} migrations={}", "w1", 2);
        context.stop();
        return captured.toString(StandardCharsets.UTF_8).strip();
    }

    @Test
    void textLinesCarryAnIso8601TimeWithDateAndZone() {
        for (String resource : List.of(Logs.PRODUCTION)) {
            String line = logOneLine(resource, Logs.Format.TEXT);
            assertThat(line).as(resource).endsWith("INFO  [main] dev.shapeshift.worker.Worker - worker started worker=w1 migrations=2");
            String time = line.substring(0, line.indexOf(' '));
            assertThat(OffsetDateTime.parse(time)).as("parses as ISO-8601 with an offset: " + time).isNotNull();
            assertThat(time).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2})");
        }
    }

    @Test
    void jsonIsOneObjectPerLine() throws Exception {
        for (String resource : List.of(Logs.PRODUCTION)) {
            String line = logOneLine(resource, Logs.Format.JSON);
            assertThat(line.lines()).as(resource).hasSize(1);
            JsonNode event = new ObjectMapper().readTree(line);
            assertThat(event.get("level").asText()).isEqualTo("INFO");
            assertThat(event.get("loggerName").asText()).isEqualTo("dev.shapeshift.worker.Worker");
            assertThat(event.get("formattedMessage").asText()).isEqualTo("worker started worker=w1 migrations=2");
            assertThat(event.get("timestamp").asLong()).isPositive();
        }
    }

    @Test
    void theRolesSeeKafkaWarnings() {
        LoggerContext production = context();
        Logs.apply(production, Logs.PRODUCTION, Logs.Format.TEXT);
        assertThat(production.getLogger("org.apache.kafka.clients.NetworkClient").getEffectiveLevel()).isEqualTo(Level.WARN);
        assertThat(production.getLogger("io.debezium.connector.postgresql").getEffectiveLevel()).isEqualTo(Level.INFO);
        for (String role : List.of("coordinator", "cdc-bridge", "worker", "run", "status")) {
            assertThat(Logs.configurationFor(role)).as(role).isEqualTo(Logs.PRODUCTION);
        }
        assertThat(Logs.configurationFor("demo")).isEqualTo(Logs.DEMO);
        assertThat(Logs.configurationFor("bench")).isEqualTo(Logs.DEMO);
    }

    @Test
    void aTestsOwnConfigurationIsKept() {
        LoggerContext global = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        assertThat(MainTest.run("validate", MainTest.EXAMPLE).exit()).isZero();
        assertThat(global.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("OUT"))
                .as("logback-test.xml's appender is still there").isNotNull();
        assertThat(Logs.configure(Logs.PRODUCTION, Logs.Format.JSON)).isFalse();
    }

    @Test
    void logFormatIsAnOptionOfEveryCommandAndFollowsTheEnvironmentRule() {
        CommandLine cmd = Main.commandLine(Map.of(), java.nio.file.Path.of("/nonexistent-home"));
        cmd.parseArgs("worker", "--bootstrap", "k:9092", "--log-format", "json");
        assertThat(cmd.getSubcommands().get("worker").getCommandSpec().findOption("--log-format").<Object>getValue())
                .isEqualTo(Logs.Format.JSON);
        CommandLine fromEnv = Main.commandLine(Map.of("SHAPESHIFT_LOG_FORMAT", "json"), java.nio.file.Path.of("/nonexistent-home"));
        fromEnv.parseArgs("coordinator");
        assertThat(fromEnv.getSubcommands().get("coordinator").getCommandSpec().findOption("--log-format").<Object>getValue())
                .isEqualTo(Logs.Format.JSON);
    }
}
