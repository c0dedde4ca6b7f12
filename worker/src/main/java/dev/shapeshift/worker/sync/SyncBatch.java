package dev.shapeshift.worker.sync;

import dev.shapeshift.change.ChangeEvent;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.Refresher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.LongStream;

/**
 * The keys of one poll, de-duplicated: many events for one hot key collapse into one refresh.
 * Also keeps what lag needs: the commit time of every row change (for per-change apply latency),
 * the newest commit time seen including heartbeats (for the lag gauge) and the highest LSN.
 * Heartbeats carry no key and are never refreshed, and they are not changes: they do not count in
 * the apply latency.
 */
final class SyncBatch {
    private final Set<Key> keys = new LinkedHashSet<>();
    private final Set<Long> txIds = new LinkedHashSet<>();
    private final java.util.Map<Key, Refresher.OldShapeChange> oldShape = new java.util.HashMap<>();
    private long events;
    private long heartbeats;
    private long newestCommitMicros;
    private long maxLsn;
    private long[] commitMicros = new long[64];
    private int commits;

    void add(ChangeEvent e) {
        events++;
        maxLsn = Math.max(maxLsn, e.lsn());
        if (e.commitTsMicros() > 0) {
            newestCommitMicros = Math.max(newestCommitMicros, e.commitTsMicros());
        }
        if (e.heartbeat()) {
            heartbeats++;
            return;
        }
        keys.add(e.key());
        if (e.oldShape()) {
            oldShape.merge(e.key(), new Refresher.OldShapeChange(e.commitTsMicros(), e.txId(), e.lsn(), 1),
                    Refresher.OldShapeChange::merge);
        }
        if (e.txId() != 0) {
            txIds.add(e.txId());
        }
        if (e.commitTsMicros() > 0) {
            if (commits == commitMicros.length) {
                commitMicros = Arrays.copyOf(commitMicros, commits * 2);
            }
            commitMicros[commits++] = e.commitTsMicros();
        }
    }

    Collection<Key> keys() {
        return keys;
    }

    /**
     * The keys whose events wrote the old shape of a write switch (table mode: the old table; in
     * place: an old column), with the latest such change ({@link ChangeEvent#oldShape}): recorded by
     * the reverse sync as old-shape writes.
     */
    java.util.Map<Key, Refresher.OldShapeChange> oldShape() {
        return oldShape;
    }

    /** The source transactions of the batch's row changes (those whose id the event carries). */
    Set<Long> txIds() {
        return txIds;
    }

    /** The keys in slices of at most {@code size}, so one statement never carries an unbounded array. */
    List<List<Key>> slices(int size) {
        List<Key> all = List.copyOf(keys);
        List<List<Key>> out = new ArrayList<>();
        for (int i = 0; i < all.size(); i += size) {
            out.add(all.subList(i, Math.min(all.size(), i + size)));
        }
        return out;
    }

    /** The source commit time of every row change of the batch (heartbeats excluded), for apply latency. */
    LongStream commitTimesMicros() {
        return Arrays.stream(commitMicros, 0, commits);
    }

    /** All events, heartbeats included. */
    long events() {
        return events;
    }

    long heartbeats() {
        return heartbeats;
    }

    boolean empty() {
        return events == 0;
    }

    /** The newest source commit time of the batch, heartbeats included (they keep lag fresh on idle tables). */
    long newestCommitMicros() {
        return newestCommitMicros;
    }

    long maxLsn() {
        return maxLsn;
    }
}
