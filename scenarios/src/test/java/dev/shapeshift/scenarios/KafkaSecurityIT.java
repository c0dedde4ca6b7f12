package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.TestCertificates;
import dev.shapeshift.kafka.KafkaClientSettings;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * broker listener that takes only SASL/PLAIN over TLS, configured by one client-settings file
 * ({@code --kafka-config}, here its system property): {@link DriverIT}'s migration runs from
 * registered to contracted through it. A client without the settings, or with a wrong password, is
 * refused by that listener.
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
            Path settings = settings("client.properties", ca.caCertificate(), PASSWORD);
            Path wrong = settings("wrong.properties", ca.caCertificate(), "not-the-password");

            assertThatThrownBy(() -> listTopics(secured, Map.of())).as("no settings").isInstanceOf(Exception.class);
            assertThatThrownBy(() -> listTopics(secured, KafkaClientSettings.read(wrong)))
                    .as("wrong password").hasStackTraceContaining("Authentication failed");
            assertThat(listTopics(secured, KafkaClientSettings.read(settings))).isNotNull();

            System.setProperty(KafkaClientSettings.PROPERTY, settings.toString());
            try {
                KafkaBroker overSaslSsl = () -> secured;
                DriverIT.driveToContracted(pg, overSaslSsl);
            } finally {
                System.clearProperty(KafkaClientSettings.PROPERTY);
            }
        }
    }

    private Path settings(String name, Path ca, String password) throws Exception {
        return Files.writeString(dir.resolve(name), String.join("\n",
                "security.protocol=SASL_SSL",
                "sasl.mechanism=PLAIN",
                "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"shapeshift\" "
                        + "password=\"" + password + "\";",
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
