package dev.shapeshift.sink;

import java.util.List;

/**
 * One open connection of a migration to the system that holds its new shape (a search index,
 * a cache, another service). Created by {@link SinkProvider#create}; used by one thread at a time.
 *
 * <p>The rule every sink keeps (docs/sinks.md, "The version rule"): for each key it remembers the
 * version of the last row it applied, tombstones included, and {@link #apply} replaces what it
 * holds for a key only when the incoming row's {@link SinkRow#version()} is strictly greater (so a
 * replay of the same row is a no-op). That rule is what makes a sink correct without sharing the
 * source database's transaction: rows arrive late, twice and out of order, and the last refresh of
 * a key after its last write carries a version greater than every row with other content.
 */
public interface Sink extends AutoCloseable {

    /**
     * Applies the rows (at most one per key in a call), each only if its version is newer than
     * what the sink holds for its key. Idempotent: applying the same rows again changes nothing.
     *
     * @throws RetryableSinkException the system is slow or down; the whole call is retried later
     *         (rows already applied are skipped by the version rule)
     * @throws PermanentSinkException these rows can never be applied (e.g. a document the index
     *         rejects); they are handled as poison records
     */
    void apply(List<SinkRow> rows) throws SinkException;

    /**
     * Reads back what the sink holds for these keys: one row per key it knows (a live row or a
     * tombstone, with its version), keys it never saw omitted. Order does not matter. Used by
     * reconcile, which compares these rows with transform(source).
     */
    List<SinkRow> read(List<SinkKey> keys) throws SinkException;

    /**
     * Whether {@link #scan} lists the keys this sink holds. Without it, reconcile still finds
     * missing and different rows, but cannot find extra ones (keys the source no longer has).
     */
    default boolean scans() {
        return false;
    }

    /**
     * One page of the keys the sink holds live rows for (tombstones excluded), in any stable
     * order the sink chooses. {@code cursor} is null for the first page, then the previous page's
     * {@link SinkPage#next()}.
     */
    default SinkPage scan(String cursor, int limit) throws SinkException {
        throw new UnsupportedOperationException("this sink does not list its keys");
    }

    /** Releases connections and threads. Called once; must not throw for an already broken link. */
    @Override
    void close();
}
