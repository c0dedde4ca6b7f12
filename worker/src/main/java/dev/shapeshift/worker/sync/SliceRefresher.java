package dev.shapeshift.worker.sync;

import dev.shapeshift.catalog.OwnQueries;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.Refresher;
import dev.shapeshift.refresh.SyncDirection;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.spec.Column;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Refreshes one slice of a sync batch's keys in one worker transaction and, when that fails with a
 * data exception (SQLState class 22), finds the keys PostgreSQL cannot read.
 *
 * <p>A key value the refresh's cast refuses fails the statement of its whole slice. The slice is
 * bisected, each half in its own transaction (refresh is idempotent: re-running the halves that
 * pass is harmless), down to the single keys that fail alone. A key that fails alone is then cast
 * by itself, exactly as the refresh casts it ({@code ?::text[]::type[]}): if PostgreSQL's cast
 * refuses it with a class-22 SQLState, it is a bad key — the record carrying it is a poison record,
 * named with {@link KeyValues#describe}. If the key casts fine, the failure is the row's (a
 * transform raising on that row's data, e.g. division by zero): it is thrown, a refresh error,
 * retried until the row or the spec is fixed, as before. Every other failure (transient ones after
 * {@link WorkerTransactions}' retries, a lost connection) is thrown unchanged and never bisected.
 */
final class SliceRefresher implements SliceApplier {
    /** A slice's outcome: rows written by the keys that passed, and the bad keys with why. */
    record Outcome(long written, Map<Key, String> badKeys, long reversed, long mismatches, long oldShapeWrites) {
        Outcome(long written, Map<Key, String> badKeys, long reversed, long mismatches) {
            this(written, badKeys, reversed, mismatches, 0);
        }
    }

    /** Per slice: rows written in reverse (after the write switch) and dual-write mismatches recorded. */
    private long reversed;
    private long mismatches;
    private long oldShapeWrites;
    private Map<Key, Refresher.OldShapeChange> oldShape = Map.of();

    private final Refresher refresher;
    /** Declares the sync's statements to the contract's access watch (they touch the old shape after the read switch too). */
    private final OwnQueries own;
    private final WorkerTransactions transactions;
    private final List<Column> keyColumns;
    private final String echoMark;

    SliceRefresher(Refresher refresher, WorkerTransactions transactions, List<Column> keyColumns, String echoMark) {
        this.refresher = refresher;
        this.own = new OwnQueries(refresher.migration());
        this.transactions = transactions;
        this.keyColumns = List.copyOf(keyColumns);
        this.echoMark = echoMark;
    }

    @Override
    public Outcome refresh(Connection c, List<Key> slice) {
        return refresh(c, slice, Map.<Key, Refresher.OldShapeChange>of());
    }

    @Override
    public Outcome refresh(Connection c, List<Key> slice, Map<Key, Refresher.OldShapeChange> oldShapeChanges) {
        Map<Key, String> bad = new LinkedHashMap<>();
        reversed = 0;
        mismatches = 0;
        oldShapeWrites = 0;
        oldShape = oldShapeChanges;
        long written = apply(c, slice, bad);
        return new Outcome(written, bad, reversed, mismatches, oldShapeWrites);
    }

    private long apply(Connection c, List<Key> keys, Map<Key, String> bad) {
        try {
            Refresher.SyncResult r = transactions.run(c, echoMark, t -> {
                Refresher.SyncResult result = refresher.sync(t, keys, oldShape);
                own.declare(t, refresher.ownQueryIds());
                return result;
            });
            if (r.direction() == SyncDirection.REVERSE) {
                reversed += r.written();
                oldShapeWrites += r.oldShapeWrites();
            }
            mismatches += r.mismatches();
            return r.written();
        } catch (ShapeshiftException e) {
            if (dataException(e).isEmpty()) {
                throw e;
            }
            if (keys.size() == 1) {
                Key key = keys.get(0);
                bad.put(key, castProblem(c, key).orElseThrow(() -> e));
                return 0;
            }
            int before = bad.size();
            int half = keys.size() / 2;
            long written = apply(c, keys.subList(0, half), bad) + apply(c, keys.subList(half, keys.size()), bad);
            if (bad.size() == before) {
                // No key fails alone: not a key's fault (cannot happen for a per-row refresh); a refresh error.
                throw e;
            }
            return written;
        }
    }

    /** The SQLState of a data exception (class 22) behind {@code e}, if it is one. */
    static Optional<String> dataException(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("22")) {
                return Optional.of(s.getSQLState());
            }
        }
        return Optional.empty();
    }

    /** Why PostgreSQL's cast refuses one of the key's values (as the refresh casts them), or empty if it takes them all. */
    private Optional<String> castProblem(Connection c, Key key) {
        for (int i = 0; i < keyColumns.size(); i++) {
            Column column = keyColumns.get(i);
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::text[]::" + column.type() + "[]")) {
                ps.setArray(1, c.createArrayOf("text", new String[] {key.get(i)}));
                ps.executeQuery().close();
            } catch (SQLException e) {
                if (e.getSQLState() == null || !e.getSQLState().startsWith("22")) {
                    throw SqlStates.translate("casting a key value", e);
                }
                return Optional.of(KeyValues.describe(column, key.get(i), e.getSQLState()));
            }
        }
        return Optional.empty();
    }
}
