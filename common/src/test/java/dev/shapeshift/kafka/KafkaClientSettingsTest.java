package dev.shapeshift.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.fixtures.KafkaSettingsCleared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The settings file named by a JVM property. The cases run in order, the one without a file last:
 * it also checks that {@link KafkaSettingsCleared} removed the property the cases before it set.
 */
@ExtendWith(KafkaSettingsCleared.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaClientSettingsTest {
    @TempDir
    Path dir;

    @Test
    @Order(1)
    void theFilesSettingsAreAddedToEveryClient() throws Exception {
        Path f = Files.writeString(dir.resolve("k.properties"), "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
                + "sasl.jaas.config=x required username=\"u\" password=\"p\";\n");
        System.setProperty(KafkaClientSettings.PROPERTY, f.toString());
        Properties p = KafkaClientSettings.apply(new Properties());
        assertThat(p).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "PLAIN")
                .containsKey("sasl.jaas.config");
    }

    @Test
    @Order(3)
    void noFileMeansNoSettings() {
        assertThat(KafkaClientSettings.apply(new Properties())).isEmpty();
    }

    @Test
    @Order(2)
    void settingsShapeshiftMakesItselfAreRefusedAndAnUnreadableFileIsNamed() throws Exception {
        Path f = Files.writeString(dir.resolve("bad.properties"), "bootstrap.servers=elsewhere:9092\n");
        assertThatThrownBy(() -> KafkaClientSettings.read(f)).isInstanceOf(ShapeshiftException.class)
                .hasMessageContaining("'bootstrap.servers', which Shapeshift sets itself (bootstrap servers: --bootstrap)")
                .satisfies(e -> assertThat(((ShapeshiftException) e).code()).isEqualTo(ErrorCode.CONFIG_INVALID));
        System.setProperty(KafkaClientSettings.PROPERTY, dir.resolve("absent.properties").toString());
        assertThatThrownBy(KafkaClientSettings::load).isInstanceOf(ShapeshiftException.class)
                .hasMessageContaining("absent.properties");
    }
}
