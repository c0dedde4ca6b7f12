package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import dev.shapeshift.fixtures.KafkaSettingsCleared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS and Kafka security options refuse half or misplaced configurations before connecting anywhere.
 * {@code --kafka-config} sets a property of the JVM (the commands run in this one): none is left behind.
 */
@ExtendWith(KafkaSettingsCleared.class)
class SecurityOptionsTest {
    @TempDir
    Path dir;

    @Test
    void aCertificateWithoutItsKeyStopsTheCoordinatorWithExit15() throws Exception {
        Path crt = Files.writeString(dir.resolve("api.crt"), "not read before the key is there too");
        MainTest.Run r = MainTest.run("coordinator", "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/none",
                "--tls-cert-file", crt.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(15);
        assertThat(r.err()).contains("--tls-key-file is missing");
    }

    @Test
    void kafkaSettingsThatSetTheBootstrapServersStopTheWorkerWithExit15() throws Exception {
        Path settings = Files.writeString(dir.resolve("kafka.properties"), "bootstrap.servers=elsewhere:9092\n");
        MainTest.Run r = MainTest.run("worker", "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/none",
                "--bootstrap", "127.0.0.1:1", "--kafka-config", settings.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(15);
        assertThat(r.err()).contains("'bootstrap.servers', which Shapeshift sets itself");
    }

    @Test
    void runRefusesKafkaSettingsForItsOwnBroker() throws Exception {
        Path settings = Files.writeString(dir.resolve("kafka.properties"), "security.protocol=SSL\n");
        MainTest.Run r = MainTest.run("run", dir.resolve("spec.yaml").toString(), "--jdbc-url",
                "jdbc:postgresql://127.0.0.1:1/none", "--kafka-config", settings.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--kafka-config is for a cluster of your own (--bootstrap)");
    }
}
