package dev.shapeshift.kafka;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * Kafka client settings from a properties file, added to every producer, consumer and admin client
 * Shapeshift creates, and to the cdc-bridge's Debezium engine (its offset store): how to reach a
 * secured cluster ({@code security.protocol}, {@code sasl.mechanism}, {@code sasl.jaas.config},
 * {@code ssl.truststore.*}, …), in Kafka's own names, as in the {@code --command-config} file of
 * Kafka's tools. The file holds the credentials, so they never appear on a command line; it is
 * named by {@code --kafka-config} (which sets the system property {@value #PROPERTY}) or the
 * environment variable {@value #ENV}, and read again each time a client is created. Shapeshift
 * never logs the file's values (Kafka's clients log their configuration with passwords and
 * {@code sasl.jaas.config} hidden).
 */
public final class KafkaClientSettings {
    public static final String PROPERTY = "shapeshift.kafka.config";
    public static final String ENV = "SHAPESHIFT_KAFKA_CONFIG";
    /** Set by Shapeshift itself, per client; the file may not change them. */
    static final Set<String> OURS = Set.of("bootstrap.servers", "key.serializer", "value.serializer",
            "key.deserializer", "value.deserializer", "group.id", "client.id", "enable.auto.commit",
            "enable.idempotence", "acks", "isolation.level", "auto.offset.reset");

    private KafkaClientSettings() {
    }

    /** The file's settings (empty without one); a bad file is a {@link ErrorCode#CONFIG_INVALID} failure. */
    public static Map<String, String> load() {
        String name = System.getProperty(PROPERTY);
        if (name == null || name.isBlank()) {
            name = System.getenv(ENV);
        }
        if (name == null || name.isBlank()) {
            return Map.of();
        }
        return read(Path.of(name.strip()));
    }

    /** The settings of one file, checked. */
    public static Map<String, String> read(Path file) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            p.load(in);
        } catch (IOException e) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "cannot read the Kafka client settings "
                    + "(--kafka-config / " + ENV + ") " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> out = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            if (OURS.contains(key)) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "the Kafka client settings " + file + " set '"
                        + key + "', which Shapeshift sets itself (bootstrap servers: --bootstrap) — remove that line");
            }
            out.put(key, p.getProperty(key).strip());
        }
        return out;
    }

    /** Adds the settings to a client's configuration. */
    public static <T extends Map<Object, Object>> T apply(T props) {
        props.putAll(load());
        return props;
    }
}
