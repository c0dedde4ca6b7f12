package dev.shapeshift.worker.sync;

import dev.shapeshift.change.ChangeEvent;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Per partition, what one poll's records carry for the durable stream state: the offset, source
 * LSN and source commit time of each record (heartbeats included: they are how an idle partition
 * proves it has applied past a position).
 */
final class StreamProgress {
    /** The newest position applied in one partition. */
    record Position(long offset, long lsn, long commitMicros) {
    }

    private final Map<TopicPartition, long[]> records = new HashMap<>(); // offset, lsn, commit µs triplets
    private final Map<TopicPartition, Integer> sizes = new HashMap<>();

    void add(TopicPartition tp, long offset, ChangeEvent e) {
        long[] a = records.computeIfAbsent(tp, k -> new long[48]);
        int n = sizes.getOrDefault(tp, 0);
        if (n + 3 > a.length) {
            a = java.util.Arrays.copyOf(a, a.length * 2);
            records.put(tp, a);
        }
        a[n] = offset;
        a[n + 1] = e.lsn();
        a[n + 2] = e.commitTsMicros();
        sizes.put(tp, n + 3);
    }

    /** Per partition, the newest position among records before the committed offset (those were applied). */
    Map<TopicPartition, Position> upTo(Map<TopicPartition, OffsetAndMetadata> committed) {
        Map<TopicPartition, Position> out = new HashMap<>();
        committed.forEach((tp, next) -> {
            long[] a = records.get(tp);
            if (a == null) {
                return;
            }
            long offset = -1;
            long lsn = 0;
            long commit = 0;
            for (int i = 0; i < sizes.get(tp); i += 3) {
                if (a[i] < next.offset()) {
                    offset = Math.max(offset, a[i]);
                    lsn = Math.max(lsn, a[i + 1]);
                    commit = Math.max(commit, a[i + 2]);
                }
            }
            if (offset >= 0) {
                out.put(tp, new Position(offset, lsn, commit));
            }
        });
        return out;
    }
}
