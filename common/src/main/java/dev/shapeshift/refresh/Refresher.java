package dev.shapeshift.refresh;

import dev.shapeshift.db.QueryIds;
import dev.shapeshift.db.Sql;
import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.spec.ResolvedSpec;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;

/**
 * Makes target rows equal to transform(current source rows): the one primitive behind sync
 * ({@link #refresh(Connection, Collection)}), backfill ({@link #copy}) and repair
 * ({@link #refreshRange}). Each call is one statement; the caller owns the transaction
 * (see {@link WorkerTransactions}), so a checkpoint can commit with the rows it describes.
 *
 * <p>Why one class of ~380 lines: sync, backfill and repair are entry points to one primitive; they
 * share how a statement is prepared, bound and its outcome read, and the statements are rendered by
 * {@link RefreshSql}.
 */
public final class Refresher {
    private final RefreshSql sync;
    private final RefreshSql backfill;
    private final String keysSql;
    private final Guards syncGuards;
    private final Guards backfillGuards;
    private final int fenceId;
    private final String migration;
    private final PhasePlan plan;
    private final String reverseSql;
    private final String mismatchSql;
    /** The query ids of the sync's statements (they read or write the old shape), for the access watch. */
    private final QueryIds own = new QueryIds();

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
        this.fenceId = fenceId(resolved.spec().name());
        this.migration = resolved.spec().name();
        this.plan = PhasePlan.of(resolved.spec().writes());
        boolean writeSwitch = plan.switchesWrites();
        this.reverseSql = writeSwitch ? sync.reverseForKeys() : null;
        this.mismatchSql = writeSwitch ? sync.recordDualWriteMismatches() : null;
    }

    /**
     * The {@code pg_stat_statements} query ids of the sync's statements run so far (refresh by keys,
     * reverse, dual-write check), learned the first time each ran ({@link QueryIds}): whoever runs
     * them declares them to the contract's access watch ({@link dev.shapeshift.catalog.OwnQueries}).
     */
    public java.util.Set<Long> ownQueryIds() {
        return own.ids();
    }

    /** The migration these statements belong to. */
    public String migration() {
        return migration;
    }

    /** A sync refresh's outcome: the refresh's counts, its direction, and the dual-write mismatches it recorded. */
    public record SyncResult(RefreshResult result, SyncDirection direction, long mismatches, long oldShapeWrites) {
        public SyncResult(RefreshResult result, SyncDirection direction, long mismatches) {
            this(result, direction, mismatches, 0);
        }

        public long written() {
            return result.written();
        }
    }

    /**
     * The latest change of a key that wrote the old shape of a write switch in one batch
     * ({@link dev.shapeshift.change.ChangeEvent#oldShape}).
     *
     * @param commitMicros its commit time, microseconds since the epoch
     * @param times        how many such changes of the key the batch carried
     */
    public record OldShapeChange(long commitMicros, long txId, long lsn, int times) {
        public OldShapeChange merge(OldShapeChange other) {
            OldShapeChange newer = other.lsn > lsn ? other : this;
            return new OldShapeChange(newer.commitMicros, newer.txId, newer.lsn, times + other.times);
        }
    }

    /**
     * Records old-shape writes (catalog {@code shapeshift.old_shape_change}) in the reverse refresh's
     * transaction: the keys whose change of the old table committed after the sync turned reverse.
     * A change delivered again (a worker crashed before committing its offsets) does not count twice:
     * the count grows only for a later WAL position.
     */
    static final String RECORD_OLD_SHAPE = "WITH __c AS (SELECT u.k, to_timestamp(u.ts / 1e6) AS at, u.tx, u.lsn, u.n "
            + "FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::int[]) AS u(k, ts, tx, lsn, n) "
            + "JOIN shapeshift.migration m ON m.name = ? AND m.direction_changed_at IS NOT NULL "
            + "AND to_timestamp(u.ts / 1e6) > m.direction_changed_at), "
            + "__ins AS (INSERT INTO shapeshift.old_shape_change AS o (migration, key, first_commit, last_commit, last_tx, "
            + "last_lsn, times) SELECT ?, __c.k::jsonb, __c.at, __c.at, __c.tx, __c.lsn, __c.n FROM __c "
            + "ON CONFLICT (migration, key) DO UPDATE SET last_commit = greatest(o.last_commit, EXCLUDED.last_commit), "
            + "last_tx = CASE WHEN EXCLUDED.last_lsn > o.last_lsn THEN EXCLUDED.last_tx ELSE o.last_tx END, "
            + "times = CASE WHEN EXCLUDED.last_lsn > o.last_lsn THEN o.times + EXCLUDED.times ELSE o.times END, "
            + "last_lsn = greatest(o.last_lsn, EXCLUDED.last_lsn) RETURNING 1) SELECT count(*) FROM __ins";

    private long recordOldShape(Connection c, Collection<Key> keys, java.util.Map<Key, OldShapeChange> oldShape)
            throws SQLException {
        if (oldShape.isEmpty()) {
            return 0;
        }
        List<String> k = new java.util.ArrayList<>();
        List<Long> ts = new java.util.ArrayList<>();
        List<Long> tx = new java.util.ArrayList<>();
        List<Long> lsn = new java.util.ArrayList<>();
        List<Integer> n = new java.util.ArrayList<>();
        for (Key key : keys) {
            OldShapeChange o = oldShape.get(key);
            if (o != null && o.commitMicros() > 0) {
                k.add(new String(dev.shapeshift.change.ChangeCodec.encodeKey(key), java.nio.charset.StandardCharsets.UTF_8));
                ts.add(o.commitMicros());
                tx.add(o.txId());
                lsn.add(o.lsn());
                n.add(o.times());
            }
        }
        if (k.isEmpty()) {
            return 0;
        }
        try (PreparedStatement ps = c.prepareStatement(RECORD_OLD_SHAPE)) {
            ps.setArray(1, c.createArrayOf("text", k.toArray()));
            ps.setArray(2, c.createArrayOf("bigint", ts.toArray()));
            ps.setArray(3, c.createArrayOf("bigint", tx.toArray()));
            ps.setArray(4, c.createArrayOf("bigint", lsn.toArray()));
            ps.setArray(5, c.createArrayOf("int4", n.toArray()));
            ps.setString(6, migration);
            ps.setString(7, migration);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * The sync's refresh of these keys in the direction the migration is in (docs/phases.md, "The
     * write switch"). Without a write switch this is {@link #refresh}. With one, it reads the
     * direction under the direction lock ({@link SyncDirection#enter}): forward, it first records
     * the keys where the application's own write of the new shape differs from transform(old)
     * while the migration is in {@code dual-writes}, then refreshes; reverse, it makes the old
     * columns equal to reverse(new, old) (nothing, when the spec gives no reverse).
     */
    public SyncResult sync(Connection c, Collection<Key> keys) throws SQLException {
        return sync(c, keys, java.util.Map.of());
    }

    /**
     * As {@link #sync(Connection, Collection)}; in reverse, also records the keys of {@code oldShape}
     * (changes that wrote the old shape of a write switch) that committed after the sync turned
     * reverse as old-shape writes, in the same transaction.
     */
    public SyncResult sync(Connection c, Collection<Key> keys, java.util.Map<Key, OldShapeChange> oldShape)
            throws SQLException {
        if (!plan.switchesWrites()) {
            return new SyncResult(refresh(c, keys), SyncDirection.FORWARD, 0);
        }
        if (keys.isEmpty()) {
            return new SyncResult(RefreshResult.NONE, SyncDirection.FORWARD, 0);
        }
        SyncDirection.Mode mode = SyncDirection.enter(c, migration);
        if (mode.direction() == SyncDirection.REVERSE) {
            long old = recordOldShape(c, keys, oldShape);
            return new SyncResult(reverse(c, keys), SyncDirection.REVERSE, 0, old);
        }
        long mismatches = 0;
        if (plan.dualWrites(mode.phase())) {
            try (PreparedStatement ps = own.prepare(c, mismatchSql, b -> b.setString(bindKeys(c, b, 1, keys), migration));
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                mismatches = rs.getLong(1);
            }
        }
        return new SyncResult(refresh(c, keys), SyncDirection.FORWARD, mismatches);
    }

    /**
     * Repair of these keys in the migration's direction (under the direction lock, like the sync):
     * forward, {@link #refresh}; after the write switch, the reverse refresh — a repair never
     * overwrites the authoritative shape. Records no dual-write mismatch.
     */
    public RefreshResult repair(Connection c, Collection<Key> keys) throws SQLException {
        if (!plan.switchesWrites() || keys.isEmpty()) {
            return refresh(c, keys);
        }
        if (SyncDirection.enter(c, migration).direction() == SyncDirection.REVERSE) {
            return reverse(c, keys);
        }
        return refresh(c, keys);
    }

    /**
     * The reverse refresh of these keys regardless of the stored direction: in place, the old
     * columns of the rows; in table mode, the source rows (upsert or delete), fenced like the
     * forward refresh by keys.
     */
    public RefreshResult reverse(Connection c, Collection<Key> keys) throws SQLException {
        if (reverseSql == null || keys.isEmpty()) {
            return RefreshResult.NONE;
        }
        try (PreparedStatement ps = own.prepare(c, reverseSql, b -> {
            int p = bindKeys(c, b, 1, keys);
            if (!sync.inPlace()) {
                bindPause(b, p, syncGuards);
            }
        })) {
            fence(c, syncGuards);
            return execute(ps);
        }
    }

    private int bindKeys(Connection c, PreparedStatement ps, int p, Collection<Key> keys) throws SQLException {
        for (String[] column : Key.columns(keys, sync.key().size())) {
            ps.setArray(p++, c.createArrayOf("text", column));
        }
        return p;
    }

    /**
     * The first key of the migration's fence locks ({@code pg_advisory_xact_lock(int, int)}; the
     * second is the lane). Stable across processes and versions: {@link String#hashCode} is
     * specified.
     */
    public static int fenceId(String migration) {
        return ("shapeshift.fence:" + migration).hashCode();
    }

    /** Refreshes exactly these keys: upsert those with a source row, delete the others' target rows. */
    public RefreshResult refresh(Connection c, Collection<Key> keys) throws SQLException {
        if (keys.isEmpty()) {
            return RefreshResult.NONE;
        }
        try (PreparedStatement ps = own.prepare(c, keysSql, b -> bindPause(b, bindKeys(c, b, 1, keys), syncGuards))) {
            fence(c, syncGuards);
            return execute(ps);
        }
    }

    /**
     * One backfill sub-batch: up to {@code limit} keys of the range, never overwriting. In table
     * mode, inside the fence, a range with no target row at all (the common case: sync has not
     * touched it) takes the plain insert of {@link RefreshSql#forEmptyRange}; the fence and the
     * chunk's claim keep every other writer out of the range until the transaction ends, so the
     * answer cannot change before the insert.
     */
    public RefreshResult copy(Connection c, KeyRange range, int limit) throws SQLException {
        if (backfill.inPlace() || backfillGuards.onConflict() != Guards.OnConflict.INSERT_MISSING
                || backfillGuards.fence() != Guards.Fence.CHUNK) {
            return rangeBatch(c, backfill, backfillGuards, range, limit);
        }
        requirePositive(limit);
        fence(c, backfillGuards);
        boolean hasAfter = range.after() != null;
        boolean hasUpTo = range.upTo() != null;
        boolean empty;
        try (PreparedStatement ps = c.prepareStatement(backfill.targetRowsIn(hasAfter, hasUpTo))) {
            bindRange(ps, 1, range);
            try (ResultSet rs = ps.executeQuery()) {
                empty = !rs.next();
            }
        }
        String sql = empty ? backfill.forEmptyRange(hasAfter, hasUpTo) : backfill.forRange(hasAfter, hasUpTo);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int p = 1;
            if (empty && backfillGuards.pauses()) {
                p = bindPause(ps, p, backfillGuards);
            }
            p = bindRange(ps, p, range);
            ps.setInt(p++, limit);
            if (!empty) {
                bindPause(ps, p, backfillGuards);
            }
            return execute(ps);
        }
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
        fence(c, syncGuards);
        try (PreparedStatement ps = c.prepareStatement(sync.deleteExtras(range.after() != null, range.upTo() != null))) {
            bindRange(ps, 1, range);
            return ps.executeUpdate();
        }
    }

    private static void requirePositive(int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive, got " + limit);
        }
    }

    private RefreshResult rangeBatch(Connection c, RefreshSql sql, Guards guards, KeyRange range, int limit)
            throws SQLException {
        requirePositive(limit);
        try (PreparedStatement ps = c.prepareStatement(sql.forRange(range.after() != null, range.upTo() != null))) {
            int p = bindRange(ps, 1, range);
            ps.setInt(p++, limit);
            bindPause(ps, p, guards);
            fence(c, guards);
            return execute(ps);
        }
    }

    /** How long a refresh by keys waits for the chunk statements running when it asks (each targets a few hundred ms). */
    static final String FENCE_WAIT = "10s";

    /**
     * Takes this transaction's side of the fence (table mode; in place the UPDATE's row locks
     * order chunks and refreshes). Chunk sub-batches take every lane shared and wait under the
     * transaction's own {@code lock_timeout}: they wait only for refreshes, which are short. A
     * refresh by keys takes its backend's lane exclusively and may wait for the chunk statements
     * already running, up to {@value #FENCE_WAIT}; its short {@code lock_timeout} is restored for
     * the statement, which locks rows the application also locks.
     */
    private void fence(Connection c, Guards guards) throws SQLException {
        if (sync.inPlace() || guards.fence() == Guards.Fence.NONE) {
            return;
        }
        if (c.getAutoCommit()) {
            throw new IllegalStateException("a fenced refresh must run inside a transaction (WorkerTransactions): "
                    + "in autocommit the fence would be released before the statement runs");
        }
        if (guards.fence() == Guards.Fence.CHUNK) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT count(pg_advisory_xact_lock_shared(?, lane)) FROM generate_series(0, ?) AS lane")) {
                ps.setInt(1, fenceId);
                ps.setInt(2, Guards.Fence.LANES - 1);
                ps.executeQuery().close();
            }
            return;
        }
        String previous = Sql.one(c, "SELECT prev, set_config('lock_timeout', ?, true) "
                + "FROM (SELECT current_setting('lock_timeout') AS prev OFFSET 0) s", rs -> rs.getString(1), FENCE_WAIT);
        try (PreparedStatement ps = c.prepareStatement("SELECT set_config('lock_timeout', ?, true) "
                + "FROM (SELECT pg_advisory_xact_lock(?, pg_backend_pid() % ?) OFFSET 0) f")) {
            ps.setString(1, previous);
            ps.setInt(2, fenceId);
            ps.setInt(3, Guards.Fence.LANES);
            ps.executeQuery().close();
        }
    }

    private int bindRange(PreparedStatement ps, int p, KeyRange range) throws SQLException {
        return KeySql.bind(ps, p, range.after(), range.upTo());
    }

    private static int bindPause(PreparedStatement ps, int p, Guards guards) throws SQLException {
        if (guards.pauses()) {
            ps.setDouble(p++, guards.pause().toMillis() / 1000.0);
        }
        return p;
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
