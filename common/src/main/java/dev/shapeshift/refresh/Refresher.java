package dev.shapeshift.refresh;

import dev.shapeshift.spec.ResolvedSpec;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * Makes target rows equal to transform(current source rows): the one primitive behind sync
 * ({@link #refresh(Connection, Collection)}), backfill ({@link #copy}) and repair
 * ({@link #refreshRange}). Each call is one statement; the caller owns the transaction
 * (see {@link WorkerTransactions}), so a checkpoint can commit with the rows it describes.
 */
public final class Refresher {
    private final RefreshSql sync;
    private final RefreshSql backfill;
    private final String keysSql;
    private final Guards syncGuards;
    private final Guards backfillGuards;

    public Refresher(ResolvedSpec resolved) {
        this(resolved, Guards.SYNC, Guards.BACKFILL);
    }

    /** With other guards: only fault tests (negative controls, widened race windows) need this. */
    public Refresher(ResolvedSpec resolved, Guards syncGuards, Guards backfillGuards) {
        this.sync = new RefreshSql(resolved, syncGuards);
        this.backfill = new RefreshSql(resolved, backfillGuards);
        this.keysSql = sync.forKeys();
        this.syncGuards = syncGuards;
        this.backfillGuards = backfillGuards;
    }

    /** Refreshes exactly these keys: upsert those with a source row, delete the others' target rows. */
    public RefreshResult refresh(Connection c, Collection<Key> keys) throws SQLException {
        if (keys.isEmpty()) {
            return RefreshResult.NONE;
        }
        String[][] columns = Key.columns(keys, sync.key().size());
        try (PreparedStatement ps = c.prepareStatement(keysSql)) {
            int p = 1;
            for (String[] column : columns) {
                Array array = c.createArrayOf("text", column);
                ps.setArray(p++, array);
            }
            bindPause(ps, p, syncGuards);
            return execute(ps);
        }
    }

    /** One backfill sub-batch: up to {@code limit} keys of the range, never overwriting. */
    public RefreshResult copy(Connection c, KeyRange range, int limit) throws SQLException {
        return rangeBatch(c, backfill, backfillGuards, range, limit);
    }

    /** One repair sub-batch: up to {@code limit} keys of the range, overwriting what differs. */
    public RefreshResult refreshRange(Connection c, KeyRange range, int limit) throws SQLException {
        return rangeBatch(c, sync, syncGuards, range, limit);
    }

    /** Table mode: removes target rows of the range that have no source row. */
    public long deleteExtras(Connection c, KeyRange range) throws SQLException {
        if (sync.inPlace()) {
            return 0;
        }
        try (PreparedStatement ps = c.prepareStatement(sync.deleteExtras(range.after() != null, range.upTo() != null))) {
            bindRange(ps, 1, range);
            return ps.executeUpdate();
        }
    }

    private RefreshResult rangeBatch(Connection c, RefreshSql sql, Guards guards, KeyRange range, int limit)
            throws SQLException {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive, got " + limit);
        }
        try (PreparedStatement ps = c.prepareStatement(sql.forRange(range.after() != null, range.upTo() != null))) {
            int p = bindRange(ps, 1, range);
            ps.setInt(p++, limit);
            bindPause(ps, p, guards);
            return execute(ps);
        }
    }

    private int bindRange(PreparedStatement ps, int p, KeyRange range) throws SQLException {
        for (Key bound : Arrays.asList(range.after(), range.upTo())) {
            if (bound != null) {
                for (String v : bound.values()) {
                    ps.setString(p++, v);
                }
            }
        }
        return p;
    }

    private static void bindPause(PreparedStatement ps, int p, Guards guards) throws SQLException {
        if (guards.pauses()) {
            ps.setDouble(p, guards.pause().toMillis() / 1000.0);
        }
    }

    private static RefreshResult execute(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            Array last = rs.getArray(4);
            Key lastKey = last == null ? null : new Key(List.of((String[]) last.getArray()));
            return new RefreshResult(rs.getLong(1), rs.getLong(2), rs.getLong(3), lastKey);
        }
    }
}
