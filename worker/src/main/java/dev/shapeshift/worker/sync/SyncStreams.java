package dev.shapeshift.worker.sync;

import dev.shapeshift.catalog.StreamState;
import dev.shapeshift.catalog.SyncStreamStore;
import dev.shapeshift.error.ShapeshiftException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sync consumer's side of {@code shapeshift.sync_stream}: claims the partitions a rebalance
 * gives it, writes each state change at once, and writes progress after the batch's database
 * commit at most once per {@code every} per partition (a separate catalog transaction: one
 * {@code UPDATE} per partition per second instead of one per batch; in the refresh transaction it
 * would add a row lock on a hot catalog row to every application-facing refresh). A write that
 * fails (catalog unreachable) is kept and retried by the next {@link #flush}; sync never stops for it.
 */
final class SyncStreams {
    private static final Logger log = LoggerFactory.getLogger(SyncStreams.class);

    private record State(StreamState state, Long stopOffset, String message) {
    }

    private final SyncStreamStore store;
    private final String migration;
    private final String owner;
    private final Duration every;
    private final Map<Integer, StreamProgress.Position> pending = new HashMap<>();
    private final Map<Integer, Instant> appliedAt = new HashMap<>();
    private final Map<Integer, Long> lastWrite = new HashMap<>();
    private final Map<Integer, State> pendingState = new HashMap<>();

    SyncStreams(SyncStreamStore store, String migration, String owner, Duration every) {
        this.store = store;
        this.migration = migration;
        this.owner = owner;
        this.every = every;
    }

    /** A rebalance gave this consumer the partitions. */
    void claimed(Collection<TopicPartition> partitions, int partitionCount, String message) {
        for (TopicPartition tp : partitions) {
            pending.remove(tp.partition());
            pendingState.remove(tp.partition());
            try {
                store.claim(migration, tp.partition(), partitionCount, owner, message);
            } catch (ShapeshiftException e) {
                log.warn("claiming sync stream failed migration={} partition={} code={} error={}", migration,
                        tp.partition(), e.code(), e.getMessage());
            }
        }
    }

    /** A rebalance takes the partitions away: their last progress is written while still owned. */
    void revoked(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            writeProgress(tp.partition());
            pending.remove(tp.partition());
            pendingState.remove(tp.partition());
        }
    }

    /** After the batch's database commit. */
    void applied(Map<TopicPartition, StreamProgress.Position> positions) {
        Instant now = Instant.now();
        positions.forEach((tp, p) -> {
            pending.merge(tp.partition(), p, (a, b) -> new StreamProgress.Position(Math.max(a.offset(), b.offset()),
                    Math.max(a.lsn(), b.lsn()), Math.max(a.commitMicros(), b.commitMicros())));
            appliedAt.put(tp.partition(), now);
        });
        flush();
    }

    /** A state change of the partitions; written at once (with their progress first). */
    void state(Collection<TopicPartition> partitions, StreamState state, Long stopOffset, String message) {
        for (TopicPartition tp : partitions) {
            writeProgress(tp.partition());
            pendingState.put(tp.partition(), new State(state, stopOffset, message));
            writeState(tp.partition());
        }
    }

    /** Writes progress that is due and retries failed writes; cheap when nothing is due. Call often. */
    void flush() {
        if (!pendingState.isEmpty()) {
            for (Integer p : pendingState.keySet().toArray(Integer[]::new)) {
                writeState(p);
            }
        }
        if (pending.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        for (Iterator<Integer> it = pending.keySet().iterator(); it.hasNext(); ) {
            int p = it.next();
            Long last = lastWrite.get(p);
            if (last == null || now - last >= every.toNanos()) {
                if (store(p)) {
                    it.remove();
                }
            }
        }
    }

    private void writeProgress(int partition) {
        if (pending.containsKey(partition) && store(partition)) {
            pending.remove(partition);
        }
    }

    private boolean store(int partition) {
        StreamProgress.Position p = pending.get(partition);
        try {
            Instant commit = p.commitMicros() > 0 ? Instant.ofEpochSecond(0, p.commitMicros() * 1000) : null;
            store.progress(migration, partition, owner, p.offset(), p.lsn(), commit, appliedAt.get(partition));
            lastWrite.put(partition, System.nanoTime());
            return true;
        } catch (ShapeshiftException e) {
            log.warn("writing sync stream progress failed, retrying migration={} partition={} code={}", migration,
                    partition, e.code());
            return false;
        }
    }

    private void writeState(int partition) {
        State s = pendingState.get(partition);
        try {
            store.state(migration, partition, owner, s.state(), s.stopOffset(), s.message());
            pendingState.remove(partition);
        } catch (ShapeshiftException e) {
            log.warn("writing sync stream state failed, retrying migration={} partition={} state={} code={}",
                    migration, partition, s.state(), e.code());
        }
    }
}
