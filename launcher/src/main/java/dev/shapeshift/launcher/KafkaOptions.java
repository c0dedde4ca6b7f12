package dev.shapeshift.launcher;

import dev.shapeshift.kafka.KafkaClientSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How the commands that talk to Kafka reach a secured cluster: a properties file of Kafka client
 * settings ({@code security.protocol}, {@code sasl.*}, {@code ssl.*}), never credentials on the
 * command line. Like every option also {@code SHAPESHIFT_KAFKA_CONFIG} or {@code kafka-config=} in
 * the configuration file; {@link KafkaClientSettings} adds the file to every client.
 */
final class KafkaOptions {
    @Option(names = "--kafka-config", paramLabel = "FILE", description = "Kafka client settings (properties: "
            + "security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.*, …) for every producer, consumer "
            + "and admin client, with the credentials (env SHAPESHIFT_KAFKA_CONFIG; docs/security.md).")
    Path file;

    /** Makes the file this process's Kafka client settings, and reads it once now so a bad one stops the start. */
    void apply() {
        if (file != null) {
            System.setProperty(KafkaClientSettings.PROPERTY, file.toAbsolutePath().toString());
        }
        KafkaClientSettings.load();
    }

    /**
     * {@link #apply()}, then, with a settings file, asks the cluster at {@code bootstrap} once
     * whether it takes them: refused credentials stop the start with the fix named, before anything
     * is created (a cluster that does not answer in 20 s is left to the clients' retries).
     */
    void applyAndCheck(String bootstrap) {
        apply();
        if (bootstrap != null) {
            KafkaClientSettings.checkAccepted(bootstrap, java.time.Duration.ofSeconds(20));
        }
    }
}
