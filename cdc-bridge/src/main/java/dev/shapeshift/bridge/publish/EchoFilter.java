package dev.shapeshift.bridge.publish;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Remembers the transactions that carried the workers' {@code shapeshift.echo} logical message, so
 * their row changes can be dropped. pgoutput sends a transactional message in WAL order, and a
 * worker emits it first, so the mark always arrives before the transaction's row changes.
 *
 * <p>Failing to suppress is harmless (one extra, idempotent refresh); suppressing a change that is
 * not an echo would lose it. So the filter only ever matches exact transaction ids it has seen,
 * and forgets the oldest beyond {@code capacity}. After a restart in the middle of a marked
 * transaction the mark may be skipped by the resume position: that transaction's changes are then
 * published, which is safe.
 */
public final class EchoFilter {
    private final Map<Long, Boolean> marked;

    public EchoFilter(int capacity) {
        this.marked = new LinkedHashMap<>(64, 0.75f, false) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    public synchronized void markEcho(long txId) {
        marked.put(txId, Boolean.TRUE);
    }

    public synchronized boolean isEcho(Long txId) {
        return txId != null && marked.containsKey(txId);
    }
}
