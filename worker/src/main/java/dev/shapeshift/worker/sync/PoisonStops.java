package dev.shapeshift.worker.sync;

import dev.shapeshift.catalog.Catalog;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sync consumer's stop at a poison record and the way out of it: nothing is skipped unless an
 * operator names the record ({@code shapeshift sync skip M partition:offset}, the setting {@value
 * SyncConsumer#SKIP_SETTING}), or a rebalance moves the partition to another worker, which stops
 * there itself. The consumer ({@link SyncConsumer}) moves its state; this class keeps the record.
 */
final class PoisonStops {
    private static final Logger log = LoggerFactory.getLogger(PoisonStops.class);

    private final String migration;
    private final String workerId;
    private final Catalog catalog;
    private volatile Poison poisoned;
    private long lastSkipCheck;

    PoisonStops(String migration, String workerId, Catalog catalog) {
        this.migration = migration;
        this.workerId = workerId;
        this.catalog = catalog;
    }

    /** The record the consumer is stopped at, or null. */
    Poison current() {
        return poisoned;
    }

    /** Stops at {@code poison}: every partition paused. Returns the stop message (what to do is in it). */
    String stop(KafkaConsumer<byte[], byte[]> c, Poison poison) {
        poisoned = poison;
        c.pause(c.assignment());
        return "sync stopped at " + poison.what() + " (topic " + poison.partition().topic()
                + ", partition:offset " + poison.position() + "): "
                + poison.reason() + ". Nothing was skipped. To skip this one record: shapeshift sync skip "
                + migration + " " + poison.position() + " --reason '<why>'";
    }

    /**
     * At most once a second: whether the stop is over. Returns null while it is not; else the message
     * to resume with (the skip was done and committed through {@code commit}, or the partition moved).
     */
    String checkSkip(KafkaConsumer<byte[], byte[]> c, BiConsumer<KafkaConsumer<byte[], byte[]>,
            Map<TopicPartition, OffsetAndMetadata>> commit) {
        if (System.currentTimeMillis() - lastSkipCheck < 1000) {
            return null;
        }
        lastSkipCheck = System.currentTimeMillis();
        Poison p = poisoned;
        if (p == null) {
            return null;
        }
        if (!c.assignment().contains(p.partition())) {
            // A rebalance gave the partition to another worker, which starts at the committed
            // offset (the poison record) and stops there itself; nothing is skipped here.
            return "sync resumed: the partition with record " + p.position() + " moved to another worker";
        }
        if (!catalog.setting(migration, SyncConsumer.SKIP_SETTING).map(p.position()::equals).orElse(false)) {
            return null;
        }
        c.seek(p.partition(), p.offset() + 1);
        commit.accept(c, Map.of(p.partition(), new OffsetAndMetadata(p.offset() + 1)));
        catalog.audit(migration, "worker " + workerId, "sync skipped record " + p.position(),
                "operator requested skip of poison record: " + p.reason());
        log.warn("sync skipped poison record on operator request migration={} position={}", migration, p.position());
        return "sync resumed after skipping record " + p.position();
    }

    /** The stop is over: every partition resumes. */
    void clear(KafkaConsumer<byte[], byte[]> c) {
        poisoned = null;
        c.resume(c.assignment());
    }
}
