package dev.shapeshift.worker.sync;

import dev.shapeshift.kafka.Topics;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncFixture.Migration;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Steps the sync ITs take alike ({@link SyncPoisonIT}, {@link SyncStreamGateIT}, {@link SyncCrashIT}):
 * one worker on a captured migration that converged once, a sync's state, a poison record.
 */
final class SyncSteps {
    private SyncSteps() {
    }

    /**
     * Once the bridge captures {@code m}: worker {@code w1} on it, then {@code insert} (the first
     * rows) applied; waits until the new shape converged.
     */
    static Worker convergedOnOneWorker(SyncFixture f, Migration m, String insert) {
        f.awaitCaptured(m);
        Worker worker = f.worker("w1", new SimpleMeterRegistry(), m.name());
        f.tx(insert);
        f.awaitConverged(m, Duration.ofSeconds(60));
        return worker;
    }

    /** The state of {@code w}'s sync of {@code m}; STARTING before it has one. */
    static SyncState state(Worker w, Migration m) {
        return w.sync(m.name()).map(SyncConsumer::state).orElse(SyncState.STARTING);
    }

    /** Produces a record that is not JSON to {@code m}'s change topic, on {@code partition}. */
    static RecordMetadata produceGarbage(SyncFixture f, Migration m, int partition) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, f.bootstrap());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            return producer.send(new ProducerRecord<>(Topics.changes(m.name()), partition,
                    "[\"1\"]".getBytes(StandardCharsets.UTF_8), "{not json".getBytes(StandardCharsets.UTF_8))).get();
        }
    }
}
