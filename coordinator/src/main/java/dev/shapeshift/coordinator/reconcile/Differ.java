package dev.shapeshift.coordinator.reconcile;

import dev.shapeshift.catalog.DriftStore.Kind;
import dev.shapeshift.db.QueryIds;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeyRange;
import dev.shapeshift.refresh.KeySql;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.TargetColumn;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Compares the target with transform(source), pushed down into PostgreSQL: one statement per key
 * range merges both sides by key (a FULL JOIN in table mode, a per-row comparison in place) and
 * returns only the keys that differ, with their kind. The JVM never holds more than one range's
 * differences. Plain MVCC reads: no row locks, nothing an application transaction waits for.
 */
public final class Differ implements Comparer {

    /** One key that differed at a check; {@code sourceXmin} is null when the source row does not exist. */
    public record Difference(Key key, Kind kind, String sourceXmin) {
    }

    /**
     * What one comparison saw.
     *
     * @param sourceRows  source rows compared
     * @param targetRows  target rows compared (equal to sourceRows in place)
     * @param differences the keys that differ, at most one per key
     * @param lsn         {@code pg_current_wal_lsn()} after the comparison's snapshot
     */
    public record Comparison(long sourceRows, long targetRows, List<Difference> differences, String lsn) {
    }

    private final DiffSql sql;
    /** The query ids of this differ's statements (they read the old shape), for the access watch. */
    private final QueryIds own = new QueryIds();
    private final String rangeSqlBoth;
    private final String keysSql;

    Differ(ResolvedSpec resolved, Map<String, String> targetTypes) {
        this(resolved.withTargetTypes(targetTypes));
    }

    private Differ(ResolvedSpec resolved) {
        this.sql = new DiffSql(resolved);
        this.rangeSqlBoth = sql.forRange(true, true);
        this.keysSql = sql.forKeys();
    }

    /** A differ for this migration, with the target columns' types read from the live database. */
    public static Differ create(Connection c, ResolvedSpec resolved) {
        return new Differ(withTargetTypes(c, resolved));
    }

    /** Compares every key of the range. */
    @Override
    public Comparison compare(Connection c, KeyRange range) throws SQLException {
        boolean both = range.after() != null && range.upTo() != null;
        String text = both ? rangeSqlBoth : sql.forRange(range.after() != null, range.upTo() != null);
        try (PreparedStatement ps = own.prepare(c, text, b -> {
            int p = bindRange(b, 1, range);
            if (!sql.inPlace()) {
                bindRange(b, p, range);
            }
        })) {
            return read(ps);
        }
    }

    /** Compares exactly these keys (the re-check and the repair's verification). */
    @Override
    public Comparison compare(Connection c, Collection<Key> keys) throws SQLException {
        if (keys.isEmpty()) {
            return new Comparison(0, 0, List.of(), null);
        }
        String[][] columns = Key.columns(keys, sql.key().size());
        try (PreparedStatement ps = own.prepare(c, keysSql, b -> {
            int p = 1;
            for (int side = 0; side < (sql.inPlace() ? 1 : 2); side++) {
                for (String[] column : columns) {
                    b.setArray(p++, c.createArrayOf("text", column));
                }
            }
        })) {
            return read(ps);
        }
    }

    /**
     * The end of the range that starts after {@code after} and holds {@code rows} source keys, or
     * null when fewer remain (the range is then open above, and also covers target rows past the
     * last source key).
     */
    @Override
    public Key rangeEnd(Connection c, Key after, int rows) throws SQLException {
        try (PreparedStatement ps = own.prepare(c, sql.rangeEnd(after != null), b -> {
            int p = KeySql.bind(b, 1, after);
            b.setInt(p, rows - 1);
        }); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? readKey(rs, 1, sql.key().size()) : null;
        }
    }

    /** The highest key after {@code after} in the source or the target; null when both are empty there. */
    @Override
    public Key lastKey(Connection c, Key after) throws SQLException {
        try (PreparedStatement ps = own.prepare(c, sql.lastKey(after != null), b -> {
            int p = 1;
            for (int side = 0; after != null && side < (sql.inPlace() ? 1 : 2); side++) {
                for (String v : after.values()) {
                    b.setString(p++, v);
                }
            }
        }); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? readKey(rs, 1, sql.key().size()) : null;
        }
    }

    @Override
    public java.util.Set<Long> ownQueryIds() {
        return own.ids();
    }

    /** Source rows according to the planner's statistics, for progress and ETA (0 if never analyzed). */
    @Override
    public long estimatedRows(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql.estimatedRows())) {
            ps.setString(1, sql.sourceName());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    private Comparison read(PreparedStatement ps) throws SQLException {
        int width = sql.key().size();
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new ShapeshiftException(ErrorCode.INTERNAL, "reconcile compare returned no row");
            }
            long sourceRows = rs.getLong(1);
            long targetRows = rs.getLong(2);
            String lsn = rs.getString(3);
            String[][] keys = new String[width][];
            for (int i = 0; i < width; i++) {
                keys[i] = texts(rs, 4 + i);
            }
            String[] kinds = texts(rs, 4 + width);
            String[] xmins = texts(rs, 5 + width);
            List<Difference> out = new ArrayList<>(kinds.length);
            for (int row = 0; row < kinds.length; row++) {
                String[] v = new String[width];
                for (int i = 0; i < width; i++) {
                    v[i] = keys[i][row];
                }
                out.add(new Difference(new Key(Arrays.asList(v)), Kind.fromLabel(kinds[row]), xmins[row]));
            }
            return new Comparison(sourceRows, targetRows, out, lsn);
        }
    }

    /** A {@code text[]} column; empty when null (array_agg over no differing row). */
    private static String[] texts(ResultSet rs, int column) throws SQLException {
        Array a = rs.getArray(column);
        return a == null ? new String[0] : (String[]) a.getArray();
    }

    private static Key readKey(ResultSet rs, int first, int width) throws SQLException {
        String[] v = new String[width];
        for (int i = 0; i < width; i++) {
            v[i] = rs.getString(first + i);
        }
        return new Key(Arrays.asList(v));
    }

    private static int bindRange(PreparedStatement ps, int p, KeyRange range) throws SQLException {
        for (Key bound : Arrays.asList(range.after(), range.upTo())) {
            if (bound != null) {
                for (String v : bound.values()) {
                    ps.setString(p++, v);
                }
            }
        }
        return p;
    }

    /** The spec with its target columns' live {@code format_type} text; a missing column is a spec error. */
    static ResolvedSpec withTargetTypes(Connection c, ResolvedSpec resolved) {
        var spec = resolved.spec();
        String table = new DiffSql(resolved).targetName();
        ResolvedSpec live;
        try {
            // read afresh: the types the spec was resolved with may be older than the expand
            live = new ResolvedSpec(spec, resolved.key(), resolved.sourceColumns()).withLiveTargetTypes(c);
        } catch (SQLException e) {
            throw SqlStates.translate("reading the columns of " + table, e);
        }
        for (TargetColumn col : spec.target().columns()) {
            if (live.targetType(col.name()) == null) {
                throw new ShapeshiftException(ErrorCode.SPEC_INVALID, "migration " + spec.name() + ": target column "
                        + col.name() + " does not exist in " + table + " — run the expand step first");
            }
        }
        return live;
    }
}
