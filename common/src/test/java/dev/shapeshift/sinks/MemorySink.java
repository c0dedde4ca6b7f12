package dev.shapeshift.sinks;

import dev.shapeshift.sink.PermanentSinkException;
import dev.shapeshift.sink.RetryableSinkException;
import dev.shapeshift.sink.Sink;
import dev.shapeshift.sink.SinkException;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkPage;
import dev.shapeshift.sink.SinkRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The test sink: an in-memory map of key → the row it holds (tombstones included) with versions,
 * in a named {@link Store} the test inspects and steers. A real component for the SPI's purpose:
 * it keeps the version rule exactly as docs/sinks.md asks a plugin to.
 *
 * <p>Knobs (sink settings, see {@link MemorySinkProvider}): {@code applyDelay} sleeps between
 * receiving rows and applying them (the window in which a newer row can overtake an older one);
 * {@code checkVersions: false} applies every row blindly — the negative control of the race test.
 * The store's {@link Store#down} and {@link Store#poison} make it fail retryably or permanently.
 */
public final class MemorySink implements Sink {
    private static final Map<String, Store> STORES = new ConcurrentHashMap<>();

    /** What one named sink holds, shared by every sink instance opened on it. */
    public static final class Store {
        private final Map<SinkKey, SinkRow> rows = new HashMap<>();
        /** While true, every call throws a retryable error ("connection refused"). */
        public volatile boolean down;
        /** Keys whose rows the sink refuses for good (a permanent error naming them). */
        public final Set<SinkKey> poison = ConcurrentHashMap.newKeySet();
        public final AtomicLong applied = new AtomicLong();
        public final AtomicLong skippedOlder = new AtomicLong();
        public final AtomicInteger failedCalls = new AtomicInteger();

        public synchronized Map<SinkKey, SinkRow> snapshot() {
            return Map.copyOf(rows);
        }

        /** Live rows only (tombstones are the key's absence). */
        public synchronized Map<SinkKey, SinkRow> live() {
            Map<SinkKey, SinkRow> out = new HashMap<>();
            rows.forEach((k, r) -> {
                if (!r.isTombstone()) {
                    out.put(k, r);
                }
            });
            return out;
        }

        /** Changes a held row behind Shapeshift's back (drift for reconcile tests). */
        public synchronized void put(SinkRow row) {
            rows.put(row.key(), row);
        }

        public synchronized void remove(SinkKey key) {
            rows.remove(key);
        }

        synchronized void apply(List<SinkRow> in, boolean checkVersions) {
            for (SinkRow r : in) {
                SinkRow held = rows.get(r.key());
                if (!checkVersions || r.supersedes(held)) {
                    rows.put(r.key(), r);
                    applied.incrementAndGet();
                } else {
                    skippedOlder.incrementAndGet();
                }
            }
        }
    }

    public static Store store(String name) {
        return STORES.computeIfAbsent(name, n -> new Store());
    }

    private final Store store;
    private final boolean checkVersions;
    private final long applyDelayMs;
    private volatile boolean closed;

    MemorySink(Store store, boolean checkVersions, long applyDelayMs) {
        this.store = store;
        this.checkVersions = checkVersions;
        this.applyDelayMs = applyDelayMs;
    }

    @Override
    public void apply(List<SinkRow> rows) throws SinkException {
        up();
        List<SinkKey> refused = rows.stream().map(SinkRow::key).filter(store.poison::contains).toList();
        if (!refused.isEmpty()) {
            store.failedCalls.incrementAndGet();
            store.apply(rows.stream().filter(r -> !store.poison.contains(r.key())).toList(), checkVersions);
            throw new PermanentSinkException("the memory sink refuses " + refused.size() + " row(s)", refused, null);
        }
        if (applyDelayMs > 0) {
            try {
                Thread.sleep(applyDelayMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RetryableSinkException("interrupted");
            }
        }
        store.apply(rows, checkVersions);
    }

    @Override
    public List<SinkRow> read(List<SinkKey> keys) throws SinkException {
        up();
        Map<SinkKey, SinkRow> all = store.snapshot();
        List<SinkRow> out = new ArrayList<>();
        for (SinkKey k : keys) {
            SinkRow r = all.get(k);
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    @Override
    public boolean scans() {
        return true;
    }

    /** Pages of live keys in the order of their text, the cursor being the last key's text. */
    @Override
    public SinkPage scan(String cursor, int limit) throws SinkException {
        up();
        List<SinkKey> keys = store.live().keySet().stream()
                .sorted(java.util.Comparator.comparing(SinkKey::toString))
                .filter(k -> cursor == null || k.toString().compareTo(cursor) > 0)
                .limit(limit).toList();
        return new SinkPage(keys, keys.size() < limit ? null : keys.get(keys.size() - 1).toString());
    }

    private void up() throws RetryableSinkException {
        if (closed) {
            throw new IllegalStateException("sink closed");
        }
        if (store.down) {
            store.failedCalls.incrementAndGet();
            throw new RetryableSinkException("memory sink: connection refused (store is down)");
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
