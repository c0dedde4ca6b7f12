package dev.shapeshift.bridge.publish;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Remembers the transactions that carried the workers' {@code shapeshift.echo} logical message, so
 * their row changes can be dropped. pgoutput sends a transactional message in WAL order, and a
 * worker emits it first, so the mark always arrives before the transaction's row changes.
 *
 * <p>The mark's content names the migration whose worker wrote the transaction: its changes are an
 * echo for that migration only. Another migration on the same table must still see them (e.g. a
 * sink migration reading {@code label} while an in-place migration's reverse sync writes it). A
 * mark without content counts for every migration.
 *
 * <p>Failing to suppress is harmless (one extra, idempotent refresh); suppressing a change that is
 * not an echo would lose it. So the filter only ever matches exact transaction ids it has seen,
 * and forgets the oldest beyond {@code capacity}. After a restart in the middle of a marked
 * transaction the mark may be skipped by the resume position: that transaction's changes are then
 * published, which is safe.
 */
public final class EchoFilter {
    /** Any migration: a mark without content. */
    private static final String ALL = "";
    private final Map<Long, java.util.Set<String>> marked;

    public EchoFilter(int capacity) {
        this.marked = new LinkedHashMap<>(64, 0.75f, false) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, java.util.Set<String>> eldest) {
                return size() > capacity;
            }
        };
    }

    /** A mark without a migration: the transaction is an echo for every migration. */
    public synchronized void markEcho(long txId) {
        markEcho(txId, null);
    }

    /** The transaction is an echo for {@code migration} (null or empty: for every migration). */
    public synchronized void markEcho(long txId, String migration) {
        marked.computeIfAbsent(txId, t -> new java.util.HashSet<>()).add(migration == null ? ALL : migration);
    }

    /** Whether the transaction is an echo for any migration at all. */
    public synchronized boolean isEcho(Long txId) {
        return txId != null && marked.containsKey(txId);
    }

    /** Whether the transaction's changes are an echo for {@code migration} (its own worker wrote them). */
    public synchronized boolean isEcho(Long txId, String migration) {
        java.util.Set<String> m = txId == null ? null : marked.get(txId);
        return m != null && (m.contains(ALL) || m.contains(migration));
    }
}
