package dev.shapeshift.coordinator.reconcile;

import dev.shapeshift.catalog.DriftStore.Kind;
import dev.shapeshift.coordinator.reconcile.Differ.Comparison;
import dev.shapeshift.coordinator.reconcile.Differ.Difference;
import dev.shapeshift.db.QueryIds;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeyRange;
import dev.shapeshift.refresh.KeySql;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkPage;
import dev.shapeshift.sink.SinkRow;
import dev.shapeshift.sinks.SinkApplier;
import dev.shapeshift.sinks.SinkRefresh;
import dev.shapeshift.sinks.SinkRefresh.Observed;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Reconcile of a sink-mode migration: transform(source) computed by PostgreSQL (plain MVCC reads,
 * no row locks, {@link SinkRefresh#observeRange}) against what the sink reads back for the same
 * keys ({@link dev.shapeshift.sink.Sink#read}), range by range in source key order.
 *
 * <ul>
 *   <li>{@code missing}: the source row exists, the sink holds nothing or a tombstone;</li>
 *   <li>{@code different}: both exist and the values differ (PostgreSQL's text forms compared);</li>
 *   <li>{@code extra}: the sink holds a live row whose source row does not exist. The range walk
 *       only asks the sink about source keys, so extras are found by a pass over the sink's own
 *       key listing ({@link dev.shapeshift.sink.Sink#scan}) after the ranges; a sink that does not
 *       list its keys gets no extras check (said in docs/sinks.md).</li>
 * </ul>
 * The comparison's LSN is read after the source snapshot; the reconciler re-checks a difference
 * only once the sync has applied past it, exactly as for tables.
 */
final class SinkDiffer implements Comparer {
    private static final int SCAN_PAGE = 500;

    private final SinkRefresh source;
    private final SinkApplier sink;
    /** The query ids of this differ's reads of the source (the old shape), for the access watch. */
    private final QueryIds own = new QueryIds();
    private final KeySql keySql;
    private final String sourceName;
    private final String sourceRef;
    private final int width;
    /** {@code "src"."k1"}, … */
    private final List<String> keyColumns;

    SinkDiffer(ResolvedSpec resolved, SinkApplier sink) {
        this.source = new SinkRefresh(resolved);
        this.sink = sink;
        this.keySql = new KeySql(resolved.key());
        this.sourceName = Ident.qualified(resolved.spec().source().schema(), resolved.spec().source().table());
        this.sourceRef = Ident.quote(resolved.spec().source().table());
        this.width = resolved.key().size();
        this.keyColumns = resolved.key().stream().map(k -> sourceRef + "." + Ident.quote(k.name())).toList();
    }

    static SinkDiffer open(ResolvedSpec resolved) {
        return new SinkDiffer(resolved, SinkApplier.forMigration(resolved, SinkApplier.Listener.NONE, () -> false));
    }

    @Override
    public Comparison compare(Connection c, KeyRange range) throws SQLException {
        List<Observed> rows = source.observeRange(c, range, own);
        String lsn = lsn(c);
        return diff(rows, rows.stream().map(o -> o.row().key()).toList(), lsn);
    }

    @Override
    public Comparison compare(Connection c, Collection<Key> keys) throws SQLException {
        if (keys.isEmpty()) {
            return new Comparison(0, 0, List.of(), null);
        }
        List<Observed> rows = source.observeKeys(c, keys, own);
        String lsn = lsn(c);
        return diff(rows, new LinkedHashSet<>(keys).stream().map(SinkRefresh::sinkKey).toList(), lsn);
    }

    /** Compares the source rows with the sink's rows for {@code keys} (a superset of the rows' keys). */
    private Comparison diff(List<Observed> rows, List<SinkKey> keys, String lsn) {
        Map<SinkKey, SinkRow> held = new HashMap<>();
        for (SinkRow r : sink.read(keys)) {
            held.put(r.key(), r);
        }
        Map<SinkKey, Observed> expected = new HashMap<>();
        for (Observed o : rows) {
            expected.put(o.row().key(), o);
        }
        List<Difference> out = new ArrayList<>();
        long targetRows = 0;
        for (SinkKey k : keys) {
            Observed want = expected.get(k);
            SinkRow got = held.get(k);
            boolean live = got != null && !got.isTombstone();
            if (live) {
                targetRows++;
            }
            if (want == null && live) {
                out.add(new Difference(SinkRefresh.key(k), Kind.EXTRA, null));
            } else if (want != null && !live) {
                out.add(new Difference(SinkRefresh.key(k), Kind.MISSING, want.xmin()));
            } else if (want != null && !Objects.equals(want.row().values(), got.values())) {
                out.add(new Difference(SinkRefresh.key(k), Kind.DIFFERENT, want.xmin()));
            }
        }
        return new Comparison(rows.size(), targetRows, out, lsn);
    }

    @Override
    public void extras(Connection c, Consumer<Comparison> page) throws SQLException {
        if (!sink.scans()) {
            return;
        }
        String cursor = null;
        do {
            SinkPage p = sink.scan(cursor, SCAN_PAGE);
            if (!p.keys().isEmpty()) {
                Comparison cmp = compare(c, p.keys().stream().map(SinkRefresh::key).toList());
                List<Difference> extras = cmp.differences().stream().filter(d -> d.kind() == Kind.EXTRA).toList();
                if (!extras.isEmpty()) {
                    page.accept(new Comparison(cmp.sourceRows(), cmp.targetRows(), extras, cmp.lsn()));
                }
            }
            cursor = p.next();
        } while (cursor != null);
    }

    @Override
    public Key rangeEnd(Connection c, Key after, int rows) throws SQLException {
        String sql = "SELECT " + keysAsText() + " FROM " + sourceName + " WHERE " + keySql.rangeWhere(sourceRef, after != null, false)
                + " ORDER BY " + keySql.tuple(sourceRef) + " OFFSET ? LIMIT 1";
        try (PreparedStatement ps = own.prepare(c, sql, b -> b.setInt(bind(b, 1, after), rows - 1));
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? readKey(rs) : null;
        }
    }

    @Override
    public Key lastKey(Connection c, Key after) throws SQLException {
        String desc = String.join(", ", keyColumns.stream().map(k -> k + " DESC").toList());
        String sql = "SELECT " + keysAsText() + " FROM " + sourceName + " WHERE " + keySql.rangeWhere(sourceRef, after != null, false)
                + " ORDER BY " + desc + " LIMIT 1";
        try (PreparedStatement ps = own.prepare(c, sql, b -> bind(b, 1, after)); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? readKey(rs) : null;
        }
    }

    @Override
    public long estimatedRows(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT greatest(reltuples, 0)::bigint FROM pg_catalog.pg_class WHERE oid = to_regclass(?)")) {
            ps.setString(1, sourceName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    @Override
    public java.util.Set<Long> ownQueryIds() {
        return own.ids();
    }

    SinkApplier applier() {
        return sink;
    }

    @Override
    public void close() {
        sink.close();
    }

    private String keysAsText() {
        return String.join(", ", keyColumns.stream().map(k -> k + "::text").toList());
    }

    private static int bind(PreparedStatement ps, int p, Key key) throws SQLException {
        if (key != null) {
            for (String v : key.values()) {
                ps.setString(p++, v);
            }
        }
        return p;
    }

    private Key readKey(ResultSet rs) throws SQLException {
        String[] v = new String[width];
        for (int i = 0; i < width; i++) {
            v[i] = rs.getString(i + 1);
        }
        return new Key(Arrays.asList(v));
    }

    private static String lsn(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
