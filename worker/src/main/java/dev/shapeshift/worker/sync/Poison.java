package dev.shapeshift.worker.sync;

import dev.shapeshift.refresh.Key;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * A record the sync stops at: undecodable, or carrying a row the target refused. {@code what}: the
 * kind of record, for the stop message.
 */
record Poison(TopicPartition partition, long offset, String what, String reason) {

    /** A change record's offset and key. */
    record KeyAt(long offset, Key key) {
    }

    /** {@code partition:offset}, as {@code shapeshift sync skip} takes it. */
    String position() {
        return partition.partition() + ":" + offset;
    }

    /** Per partition, the first record carrying a bad key: a poison record, like an undecodable one. */
    static List<Poison> badKeyRecords(Map<TopicPartition, List<KeyAt>> keysAt, Map<Key, String> badKeys, String what) {
        List<Poison> out = new ArrayList<>();
        if (badKeys.isEmpty()) {
            return out;
        }
        for (Map.Entry<TopicPartition, List<KeyAt>> e : keysAt.entrySet()) {
            e.getValue().stream().filter(k -> badKeys.containsKey(k.key())).findFirst()
                    .ifPresent(k -> out.add(new Poison(e.getKey(), k.offset(), what, badKeys.get(k.key()))));
        }
        return out;
    }
}
