package dev.shapeshift.kafka;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.AuthenticationException;

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
        Path file = file();
        return file == null ? Map.of() : read(file);
    }

    /** The settings file named by {@value #PROPERTY} or {@value #ENV}; null without one. */
    public static Path file() {
        String name = System.getProperty(PROPERTY);
        if (name == null || name.isBlank()) {
            name = System.getenv(ENV);
        }
        return name == null || name.isBlank() ? null : Path.of(name.strip());
    }

    /**
     * Asks the cluster once, before a role starts anything, whether it takes this process's
     * settings: a refusal of the credentials or of the TLS handshake (a wrong user or password, a
     * mechanism the listener does not offer, an untrusted certificate) is a
     * {@link ErrorCode#CONFIG_INVALID} failure that names the settings file, the mechanism and
     * what to fix; the role then stops before it creates a slot, a topic or a consumer group.
     * A cluster that does not answer within {@code timeout} is not decided here: the role starts,
     * and its clients retry as they always do. Without a settings file there is nothing to check.
     */
    public static void checkAccepted(String bootstrapServers, Duration timeout) {
        Path file = file();
        if (file == null) {
            return;
        }
        Map<String, String> settings = read(file);
        Properties props = new Properties();
        props.putAll(settings);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthenticationException refused) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "Kafka at " + bootstrapServers + " refused the "
                        + "connection configured by the Kafka client settings " + file + " (security.protocol="
                        + settings.getOrDefault("security.protocol", "PLAINTEXT") + ", sasl.mechanism="
                        + settings.getOrDefault("sasl.mechanism", "GSSAPI") + "): " + refused.getMessage()
                        + " — fix the user and password in sasl.jaas.config, sasl.mechanism (the listener's "
                        + "sasl.enabled.mechanisms) or ssl.truststore.* in that file; nothing was started", refused);
            }
        } catch (TimeoutException e) {
            // No answer yet: not a verdict on the settings; the role's clients retry.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
