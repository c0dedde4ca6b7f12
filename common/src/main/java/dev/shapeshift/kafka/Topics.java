package dev.shapeshift.kafka;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The Kafka topics of a migration (docs/architecture.md, docs/sync.md). The partition count is fixed for a
 * migration's life: it bounds how many workers share the work.
 */
public final class Topics {
    private Topics() {
    }

    /** Change events, keyed by the source key: {@code shapeshift.<migration>.changes}. */
    public static String changes(String migration) {
        return "shapeshift." + migration + ".changes";
    }

    /** Backfill chunk tasks: {@code shapeshift.<migration>.chunks}. */
    public static String chunks(String migration) {
        return "shapeshift." + migration + ".chunks";
    }

    /** The consumer group of a migration's sync or backfill workers. */
    public static String group(String migration, String role) {
        return "shapeshift." + migration + "." + role;
    }

    /** Creates the topics if they do not exist yet (idempotent: an existing topic is left as it is). */
    public static void ensure(String bootstrapServers, Map<String, Integer> partitionsByTopic, short replication) {
        Properties props = KafkaClientSettings.apply(new Properties());
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        try (Admin admin = Admin.create(props)) {
            List<NewTopic> topics = partitionsByTopic.entrySet().stream()
                    .map(e -> new NewTopic(e.getKey(), e.getValue(), replication)).toList();
            for (var entry : admin.createTopics(topics).values().entrySet()) {
                try {
                    entry.getValue().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new ShapeshiftException(ErrorCode.UNREACHABLE, "creating topic " + entry.getKey()
                                + " on " + bootstrapServers + " failed: " + e.getCause().getMessage(), e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted while creating topics", e);
        } catch (TimeoutException e) {
            throw new ShapeshiftException(ErrorCode.UNREACHABLE,
                    "Kafka at " + bootstrapServers + " did not answer within 30s while creating topics", e);
        }
    }
}
