package dev.shapeshift.sinks;

import dev.shapeshift.db.QueryIds;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeyRange;
import dev.shapeshift.refresh.KeySql;
import dev.shapeshift.refresh.TransformSql;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkRow;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.TargetColumn;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The refresh primitive for a sink: PostgreSQL computes the new-shape rows of a batch of keys (or
 * of a key range) from the transform, and stamps each with a per-key monotonic version. The rows
 * are applied to the sink after this transaction commits, by the caller; the version rule makes
 * that late, unordered apply safe (docs/refresh.md, "Sinks").
 *
 * <p>Each call runs two statements in the caller's transaction (READ COMMITTED, so the second
 * statement's snapshot is taken after the first returns):
 * <ol>
 *   <li>{@code pg_current_wal_insert_lsn()} — the position L;</li>
 *   <li>the source rows of the keys with the transforms evaluated, {@code FOR SHARE}, held until
 *       the caller commits.</li>
 * </ol>
 * A live row gets version {@code 2L + 1}, a tombstone (a key with no source row) {@code 2L}: at
 * an equal position a live row wins over a tombstone (the only pair that can tie with different
 * contents, see docs/refresh.md).
 */
public final class SinkRefresh {
    private final ResolvedSpec resolved;
    private final List<Column> key;
    private final List<TargetColumn> columns;
    private final KeySql keySql;
    private final String source;
    private final String sourceRef;
    private final TransformSql transforms;
    /** The query id of the sync's read of the source (the old shape), for the access watch. */
    private final QueryIds own = new QueryIds();

    public SinkRefresh(ResolvedSpec resolved) {
        this.resolved = resolved;
        this.key = resolved.key();
        this.columns = resolved.spec().target().columns();
        this.keySql = new KeySql(key);
        this.source = Ident.qualified(resolved.spec().source().schema(), resolved.spec().source().table());
        this.sourceRef = Ident.quote(resolved.spec().source().table());
        this.transforms = new TransformSql(resolved);
    }

    /**
     * The {@code pg_stat_statements} query ids of {@link #forKeys}' read of the source, once it ran
     * ({@link QueryIds}): the sync declares it to the contract's access watch.
     */
    public java.util.Set<Long> ownQueryIds() {
        return own.ids();
    }

    /** The version of a row read at WAL position {@code lsn}: live rows above tombstones at the same position. */
    public static long version(long lsn, boolean live) {
        return lsn * 2 + (live ? 1 : 0);
    }

    /** The WAL position a version was read at. */
    public static long lsnOf(long version) {
        return version / 2;
    }

    public static SinkKey sinkKey(Key k) {
        return new SinkKey(k.values());
    }

    public static Key key(SinkKey k) {
        return new Key(k.values());
    }

    /**
     * One row per distinct key: the transform of its source row, or a tombstone when it has none.
     * Run inside a worker transaction; commit before applying the rows anywhere.
     */
    public List<SinkRow> forKeys(Connection c, Collection<Key> keys) throws SQLException {
        if (keys.isEmpty()) {
            return List.of();
        }
        List<Key> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
        long lsn = insertLsn(c);
        Map<Key, SinkRow> live = new LinkedHashMap<>();
        try (PreparedStatement ps = own.prepare(c, keysSql(), b -> {
            String[][] arrays = Key.columns(distinct, key.size());
            for (int i = 0; i < key.size(); i++) {
                b.setArray(i + 1, c.createArrayOf("text", arrays[i]));
            }
        })) {
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    SinkRow row = row(rs, lsn);
                    live.put(key(row.key()), row);
                }
            }
        }
        List<SinkRow> out = new ArrayList<>(distinct.size());
        for (Key k : distinct) {
            SinkRow row = live.get(k);
            out.add(row != null ? row : SinkRow.tombstone(sinkKey(k), version(lsn, false)));
        }
        return out;
    }

    /** A backfill sub-batch: the live rows of the range, in key order, at most {@code limit}. */
    public record RangeBatch(List<SinkRow> rows, Key lastKey) {
    }

    public RangeBatch forRange(Connection c, KeyRange range, int limit) throws SQLException {
        long lsn = insertLsn(c);
        List<SinkRow> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(rangeSql(range.after() != null, range.upTo() != null))) {
            int p = KeySql.bind(ps, 1, range.after(), range.upTo());
            ps.setInt(p, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(row(rs, lsn));
                }
            }
        }
        Key last = rows.isEmpty() ? null : key(rows.get(rows.size() - 1).key());
        return new RangeBatch(rows, last);
    }

    /**
     * Reconcile's view of one source row: the transform of the row (its version means nothing: it is never applied) and
     * its {@code xmin}, read without row locks.
     */
    public record Observed(SinkRow row, String xmin) {
    }

    /**
     * The transforms of the keys' source rows as of one snapshot, no row locks; absent keys are left
     * out. {@code own} learns the statement's query id (the reconciler's reads of the old shape).
     */
    public List<Observed> observeKeys(Connection c, Collection<Key> keys, QueryIds own) throws SQLException {
        if (keys.isEmpty()) {
            return List.of();
        }
        List<Key> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
        try (PreparedStatement ps = own.prepare(c, observeKeysSql(), b -> {
            String[][] arrays = Key.columns(distinct, key.size());
            for (int i = 0; i < key.size(); i++) {
                b.setArray(i + 1, c.createArrayOf("text", arrays[i]));
            }
        })) {
            return observed(ps);
        }
    }

    /** The transforms of every source row of the range as of one snapshot, no row locks, in key order. */
    public List<Observed> observeRange(Connection c, KeyRange range, QueryIds own) throws SQLException {
        try (PreparedStatement ps = own.prepare(c, observeRangeSql(range.after() != null, range.upTo() != null),
                b -> KeySql.bind(b, 1, range.after(), range.upTo()))) {
            return observed(ps);
        }
    }

    private List<Observed> observed(PreparedStatement ps) throws SQLException {
        List<Observed> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Observed(row(rs, 0), rs.getString(key.size() + columns.size() + 1)));
            }
        }
        return out;
    }

    public String observeKeysSql() {
        String locked = keysSql();
        return locked.substring(0, locked.lastIndexOf("\nFOR SHARE")).replaceFirst("\nFROM ",
                java.util.regex.Matcher.quoteReplacement(", " + sourceRef + ".xmin::text\nFROM "));
    }

    String observeRangeSql(boolean hasAfter, boolean hasUpTo) {
        return "SELECT " + selectList() + ", " + sourceRef + ".xmin::text\nFROM " + source + "\nWHERE "
                + keySql.rangeWhere(sourceRef, hasAfter, hasUpTo) + "\nORDER BY " + keySql.tuple(sourceRef);
    }

    /** The current WAL insert position, read before the snapshot of the statement that reads the rows. */
    private static long insertLsn(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private SinkRow row(ResultSet rs, long lsn) throws SQLException {
        List<String> k = new ArrayList<>(key.size());
        for (int i = 0; i < key.size(); i++) {
            k.add(rs.getString(i + 1));
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < columns.size(); i++) {
            values.put(columns.get(i).name(), rs.getString(key.size() + i + 1));
        }
        return SinkRow.upsert(new SinkKey(k), version(lsn, true), values);
    }

    /** Parameters: one {@code text[]} per key column. */
    public String keysSql() {
        StringJoiner arrays = new StringJoiner(", ");
        StringJoiner aliases = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            arrays.add("?::text[]::" + key.get(i).type() + "[]");
            aliases.add("__k" + i);
        }
        return "WITH __keys AS (SELECT * FROM unnest(" + arrays + ") AS __k(" + aliases + "))\n"
                + "SELECT " + selectList() + "\nFROM " + source + "\nWHERE (" + keySql.tuple(sourceRef) + ") IN (SELECT "
                + aliases + " FROM __keys)\nFOR SHARE OF " + sourceRef;
    }

    /** Parameters: the after key (if any), the upTo key (if any), the limit. */
    String rangeSql(boolean hasAfter, boolean hasUpTo) {
        return "SELECT " + selectList() + "\nFROM " + source + "\nWHERE " + keySql.rangeWhere(sourceRef, hasAfter, hasUpTo)
                + "\nORDER BY " + keySql.tuple(sourceRef) + "\nLIMIT ?\nFOR SHARE OF " + sourceRef;
    }

    /** The key columns and the transforms, all as PostgreSQL's text form. */
    private String selectList() {
        StringJoiner s = new StringJoiner(", ");
        for (Column k : key) {
            s.add(sourceRef + "." + Ident.quote(k.name()) + "::text");
        }
        for (int i = 0; i < columns.size(); i++) {
            s.add("(" + transforms.written(i) + ")::text AS " + Ident.quote(columns.get(i).name()));
        }
        return s.toString();
    }

    public ResolvedSpec resolved() {
        return resolved;
    }
}
