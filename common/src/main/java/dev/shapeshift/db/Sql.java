package dev.shapeshift.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place a parameterised statement is prepared, bound, run and its rows mapped, so the
 * stores say only their SQL and what a row means. All of it runs on the caller's connection, in
 * the caller's transaction (wrap it in {@link Transactions} or {@link LockSafeDdl} for one).
 *
 * <p>Parameters bind by their Java type, as the typed setters would: {@code String}, {@code
 * Integer}, {@code Long}, {@code Short}, {@code Boolean}, {@code Double}, {@code Timestamp},
 * {@code byte[]} and {@link java.sql.Array} as themselves; an {@link Instant} as a {@code
 * Timestamp}; a plain {@code null} as a text null (what {@code setString(i, null)} sends); a null
 * of another type as {@link #nullOf}.
 */
public final class Sql {

    /** What one row means; called once per row, the cursor on that row. */
    @FunctionalInterface
    public interface Row<T> {
        T map(ResultSet rs) throws SQLException;
    }

    /** What to do with one row; called once per row, the cursor on that row. */
    @FunctionalInterface
    public interface RowAction {
        void accept(ResultSet rs) throws SQLException;
    }

    /** A typed SQL null, for a parameter that is not text. */
    public record Null(int sqlType) {
    }

    private Sql() {
    }

    /** A null of {@code sqlType} ({@link Types}). */
    public static Null nullOf(int sqlType) {
        return new Null(sqlType);
    }

    /** {@code t} as a timestamp parameter; a timestamp-typed null when {@code t} is null. */
    public static Object timestamp(Instant t) {
        return t == null ? nullOf(Types.TIMESTAMP) : Timestamp.from(t);
    }

    /** Every row of the query, mapped in order. */
    public static <T> List<T> list(Connection c, String sql, Row<T> row, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rs.next()) {
                out.add(row.map(rs));
            }
            return out;
        }
    }

    /** Runs {@code action} on every row of the query, in order. */
    public static void each(Connection c, String sql, RowAction action, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                action.accept(rs);
            }
        }
    }

    /** The first row of the query mapped, or null when there is none. */
    public static <T> T one(Connection c, String sql, Row<T> row, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? row.map(rs) : null;
        }
    }

    /** Whether the query returns a row. */
    public static boolean exists(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            return rs.next();
        }
    }

    /** Runs an INSERT, UPDATE or DELETE; the number of rows it touched. */
    public static int update(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params)) {
            return ps.executeUpdate();
        }
    }

    /** The statement prepared with {@code params} bound; the caller closes it. */
    public static PreparedStatement prepare(Connection c, String sql, Object... params) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        try {
            for (int i = 0; i < params.length; i++) {
                bind(ps, i + 1, params[i]);
            }
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    private static void bind(PreparedStatement ps, int i, Object v) throws SQLException {
        if (v == null) {
            ps.setString(i, null);
        } else if (v instanceof Null n) {
            ps.setNull(i, n.sqlType());
        } else if (v instanceof String s) {
            ps.setString(i, s);
        } else if (v instanceof Integer n) {
            ps.setInt(i, n);
        } else if (v instanceof Long n) {
            ps.setLong(i, n);
        } else if (v instanceof Short n) {
            ps.setShort(i, n);
        } else if (v instanceof Boolean b) {
            ps.setBoolean(i, b);
        } else if (v instanceof Double d) {
            ps.setDouble(i, d);
        } else if (v instanceof Timestamp t) {
            ps.setTimestamp(i, t);
        } else if (v instanceof Instant t) {
            ps.setTimestamp(i, Timestamp.from(t));
        } else if (v instanceof byte[] b) {
            ps.setBytes(i, b);
        } else if (v instanceof java.sql.Array a) {
            ps.setArray(i, a);
        } else {
            throw new IllegalArgumentException("Sql cannot bind a " + v.getClass().getName() + " (parameter " + i + ")");
        }
    }
}
