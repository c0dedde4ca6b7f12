package dev.shapeshift.worker.sync;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Waiting while staying in the consumer group: polls that take no new work, so a stopped or held
 * sync keeps its partitions without a rebalance and never drops what a rebalance hands it.
 */
final class PausedPolls {
    private PausedPolls() {
    }

    /** Waits {@code d} (or until {@code closing}) while staying in the group: polls with every partition paused. */
    static <K, V> void holdFor(KafkaConsumer<K, V> c, Duration d, BooleanSupplier closing,
                               Consumer<KafkaConsumer<K, V>> afterPoll) {
        long until = System.nanoTime() + d.toNanos();
        while (!closing.getAsBoolean() && System.nanoTime() < until) {
            poll(c, Duration.ofMillis(Math.min(100, Math.max(1, (until - System.nanoTime()) / 1_000_000))), afterPoll);
        }
    }

    /**
     * One poll that takes no new work. Partitions assigned by a rebalance during the poll are not
     * paused yet and may return records; they are rewound to their first offset, so nothing is lost.
     */
    static <K, V> void poll(KafkaConsumer<K, V> c, Duration timeout, Consumer<KafkaConsumer<K, V>> afterPoll) {
        c.pause(c.assignment());
        ConsumerRecords<K, V> records = c.poll(timeout);
        for (TopicPartition tp : records.partitions()) {
            c.seek(tp, records.records(tp).get(0).offset());
        }
        c.pause(c.assignment());
        afterPoll.accept(c);
    }
}
