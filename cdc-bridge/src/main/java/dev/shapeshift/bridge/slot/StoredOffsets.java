package dev.shapeshift.bridge.slot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.kafka.KafkaClientSettings;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Reads the bridge's position as Debezium stored it in the offsets topic (Kafka Connect's
 * {@code KafkaOffsetBackingStore}: key {@code ["<engine name>",{"server":"<topic prefix>"}]},
 * value the PostgreSQL offset map with {@code lsn}, {@code lsn_proc}, {@code lsn_commit}). The
 * engine name and topic prefix are both the slot name.
 */
public final class StoredOffsets {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String bootstrapServers;
    private final String topic;

    public StoredOffsets(String bootstrapServers, String topic) {
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
    }

    /** The highest LSN of the slot's stored offset, or empty if none is stored (or it was forgotten). */
    public Optional<Long> lsn(String slot) {
        return latest(slot).value.flatMap(StoredOffsets::highestLsn);
    }

    /** Writes a tombstone for the slot's offset so the next start begins without one (recovery). */
    public void forget(String slot) {
        Found found = latest(slot);
        if (found.key == null) {
            return;
        }
        Properties p = KafkaClientSettings.apply(new Properties());
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.send(new ProducerRecord<>(topic, found.partition, found.key, null)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while forgetting offsets", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not forget the offsets of slot " + slot + ": " + e.getCause(), e);
        }
    }

    private record Found(byte[] key, int partition, Optional<JsonNode> value) {
    }

    private Found latest(String slot) {
        Properties p = KafkaClientSettings.apply(new Properties());
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Found found = new Found(null, 0, Optional.empty());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(info -> new TopicPartition(topic, info.partition())).toList();
            if (partitions.isEmpty()) {
                return found;
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions));
            while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.key() != null && slot.equals(engineName(r.key()))) {
                        found = new Found(r.key(), r.partition(), Optional.ofNullable(r.value()).map(StoredOffsets::json));
                    }
                }
            }
        }
        return found;
    }

    static String engineName(byte[] key) {
        JsonNode k = json(key);
        return k != null && k.isArray() && k.size() > 0 ? k.get(0).asText() : null;
    }

    static Optional<Long> highestLsn(JsonNode offset) {
        long best = -1;
        for (String field : new String[] {"lsn", "lsn_proc", "lsn_commit"}) {
            JsonNode v = offset.get(field);
            if (v != null && v.canConvertToLong()) {
                best = Math.max(best, v.asLong());
            }
        }
        return best < 0 ? Optional.empty() : Optional.of(best);
    }

    private static JsonNode json(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            return null;
        }
    }
}
