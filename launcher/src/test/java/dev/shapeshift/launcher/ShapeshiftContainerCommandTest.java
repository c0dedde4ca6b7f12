package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.embedded.ShapeshiftContainer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.testcontainers.utility.DockerImageName;
import picocli.CommandLine;

/** Every role's command that {@link ShapeshiftContainer} builds is one the CLI takes (no Docker needed). */
class ShapeshiftContainerCommandTest {
    private static final DockerImageName IMAGE = DockerImageName.parse("shapeshift/shapeshift:test");

    @Test
    void theContainersCommandsParse() {
        for (ShapeshiftContainer c : List.of(
                ShapeshiftContainer.coordinator(IMAGE, "t").withPostgres("pg", "app", "u", "p").withKafka("kafka:9092")
                        .withSpec("s.yaml", "name: s\n"),
                ShapeshiftContainer.bridge(IMAGE).withPostgres("pg", "app", "u", "p").withKafka("kafka:9092"),
                ShapeshiftContainer.worker(IMAGE, "w1").withPostgres("pg", "app", "u", "p").withKafka("kafka:9092"))) {
            CommandLine.ParseResult parsed = Main.commandLine().parseArgs(c.commandLine().toArray(String[]::new));
            assertThat(parsed.subcommand()).as(c.role().command()).isNotNull();
            assertThat(parsed.subcommand().commandSpec().name()).isEqualTo(c.role().command());
            assertThat(parsed.subcommand().unmatched()).isEmpty();
        }
    }
}
