package dev.shapeshift.coordinator.plan;

import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.kafka.KafkaClientSettings;
import dev.shapeshift.kafka.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes one task per chunk that is not done to {@code shapeshift.<migration>.chunks}: key =
 * the chunk number, value = {@code {"migration":"…","chunk":N}}. Publishing again is harmless: the
 * catalog is the truth, and a worker skips a chunk that is done.
 */
public final class ChunkPublisher {
    private static final Logger log = LoggerFactory.getLogger(ChunkPublisher.class);

    private final String bootstrapServers;
    private final int partitions;

    /** @param partitions the chunks topic's partition count if it must be created: the backfill's maximum parallelism */
    public ChunkPublisher(String bootstrapServers, int partitions) {
        if (partitions < 1) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "chunk topic partitions must be at least 1, got " + partitions);
        }
        this.bootstrapServers = bootstrapServers;
        this.partitions = partitions;
    }

    /** Returns how many tasks were published. */
    public int publish(String migration, List<Chunk> chunks) {
        String topic = Topics.chunks(migration);
        Topics.ensure(bootstrapServers, Map.of(topic, partitions), (short) 1);
        Properties props = KafkaClientSettings.apply(new Properties());
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            for (Chunk chunk : chunks) {
                if (!chunk.done()) {
                    sent.add(producer.send(new ProducerRecord<>(topic, Integer.toString(chunk.number()),
                            value(migration, chunk.number()))));
                }
            }
            producer.flush();
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        } catch (ExecutionException e) {
            throw new ShapeshiftException(ErrorCode.UNREACHABLE, "publishing chunk tasks of " + migration + " to "
                    + bootstrapServers + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted while publishing chunk tasks", e);
        }
        log.info("chunk tasks published migration={} topic={} tasks={}", migration, topic, sent.size());
        return sent.size();
    }

    static String value(String migration, int chunk) {
        // Migration names are validated identifiers ([a-z0-9-]), so no JSON escaping is needed beyond quotes.
        return "{\"migration\":\"" + migration.replace("\\", "\\\\").replace("\"", "\\\"") + "\",\"chunk\":" + chunk + "}";
    }
}
