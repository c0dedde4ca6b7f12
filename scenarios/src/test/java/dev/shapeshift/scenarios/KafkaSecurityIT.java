package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.TestCertificates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.kafka.KafkaClientSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every Kafka client of every role — the coordinator's topics, chunk tasks and clean-up, the
 * bridge's producer, stored offsets and Debezium's offset store, the workers' consumers — against a
 * broker listener that takes only SASL over TLS (SCRAM-SHA-512 with a credential created when the
 * broker's storage was formatted, or PLAIN), configured by one client-settings file
 * ({@code --kafka-config}, here its system property): {@link DriverIT}'s migration runs from
 * registered to contracted through it over SCRAM-SHA-512. A client without the settings, or with a
 * wrong password for either mechanism, is refused by that listener; the check every role makes at
 * start ({@link KafkaClientSettings#checkAccepted}) turns a refused SCRAM password into a
 * configuration error naming the file and the fix, and the migration that follows with the right
 * password loses nothing (DriverIT's independent check).
 */
@ExtendWith(PostgresExtension.class)
class KafkaSecurityIT {
    private static final String PASSWORD = "kafka-security-it-secret";

    @TempDir
    Path dir;

    @Test
    void aWholeMigrationThroughASaslSslListener(PostgresServer pg) throws Exception {
        TestCertificates ca = TestCertificates.authority(dir, "kafka-test-ca");
        TestCertificates.Issued broker = ca.issue("localhost", "127.0.0.1", "localhost");
        try (EmbeddedKafka kafka = EmbeddedKafka.startSecured(
                new EmbeddedKafka.SaslTls(broker.certificate(), broker.key(), "shapeshift", PASSWORD))) {
            String secured = kafka.securedBootstrapServers();
            Path plain = settings("plain.properties", "PLAIN", ca.caCertificate(), PASSWORD);
            Path wrongPlain = settings("wrong-plain.properties", "PLAIN", ca.caCertificate(), "not-the-password");
            Path scram = settings("client.properties", EmbeddedKafka.SCRAM_MECHANISM, ca.caCertificate(), PASSWORD);
            Path wrongScram = settings("wrong-scram.properties", EmbeddedKafka.SCRAM_MECHANISM, ca.caCertificate(),
                    "not-the-password");

            assertThatThrownBy(() -> listTopics(secured, Map.of())).as("no settings").isInstanceOf(Exception.class);
            assertThatThrownBy(() -> listTopics(secured, KafkaClientSettings.read(wrongPlain)))
                    .as("wrong PLAIN password").hasStackTraceContaining("Authentication failed");
            assertThat(listTopics(secured, KafkaClientSettings.read(plain))).isNotNull();
            assertThatThrownBy(() -> listTopics(secured, KafkaClientSettings.read(wrongScram)))
                    .as("wrong SCRAM password").hasStackTraceContaining("Authentication failed")
                    .hasStackTraceContaining(EmbeddedKafka.SCRAM_MECHANISM);

            // What a role does first: a refused password stops it with the file and the fix named.
            System.setProperty(KafkaClientSettings.PROPERTY, wrongScram.toString());
            try {
                assertThatThrownBy(() -> KafkaClientSettings.checkAccepted(secured, Duration.ofSeconds(20)))
                        .isInstanceOfSatisfying(ShapeshiftException.class, e -> {
                            assertThat(e.code()).isEqualTo(ErrorCode.CONFIG_INVALID);
                            assertThat(e.getMessage()).contains("refused", wrongScram.toString(),
                                    "sasl.mechanism=" + EmbeddedKafka.SCRAM_MECHANISM, "sasl.jaas.config",
                                    "nothing was started").doesNotContain("not-the-password");
                        });
            } finally {
                System.clearProperty(KafkaClientSettings.PROPERTY);
            }

            System.setProperty(KafkaClientSettings.PROPERTY, scram.toString());
            try {
                KafkaClientSettings.checkAccepted(secured, Duration.ofSeconds(20));
                KafkaBroker overSaslSsl = () -> secured;
                DriverIT.driveToContracted(pg, overSaslSsl);
            } finally {
                System.clearProperty(KafkaClientSettings.PROPERTY);
            }
        }
    }

    private Path settings(String name, String mechanism, Path ca, String password) throws Exception {
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        return Files.writeString(dir.resolve(name), String.join("\n",
                "security.protocol=SASL_SSL",
                "sasl.mechanism=" + mechanism,
                "sasl.jaas.config=" + module + " required username=\"shapeshift\" password=\"" + password + "\";",
                "ssl.truststore.type=PEM",
                "ssl.truststore.location=" + ca), java.nio.file.StandardOpenOption.CREATE_NEW);
    }

    private static Object listTopics(String bootstrap, Map<String, String> settings) throws Exception {
        Properties p = new Properties();
        p.putAll(settings);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "8000");
        try (Admin admin = Admin.create(p)) {
            return admin.listTopics().names().get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e;
        }
    }
}
