package dev.shapeshift.launcher;

import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A rough size of the source table for {@code plan}: {@code pg_class.reltuples}, or an exact
 * {@code count(*)} (bounded by a 5 s timeout) when the table was never analyzed. A stand-in until
 * the coordinator's chunk planner exists.
 *
 * @param rows   estimated rows, or -1 when unknown
 * @param method how the number was obtained
 */
record RowEstimate(long rows, String method) {

    long chunks(int chunkRows) {
        return rows < 0 ? -1 : (rows + chunkRows - 1) / chunkRows;
    }

    static RowEstimate of(Connection c, ResolvedSpec resolved) throws SQLException {
        String table = Ident.qualified(resolved.spec().source().schema(), resolved.spec().source().table());
        try (PreparedStatement ps = c.prepareStatement("SELECT reltuples::bigint FROM pg_catalog.pg_class WHERE oid = to_regclass(?)")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && rs.getLong(1) >= 0) {
                    return new RowEstimate(rs.getLong(1), "pg_class.reltuples");
                }
            }
        }
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL statement_timeout = '5s'");
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
                rs.next();
                return new RowEstimate(rs.getLong(1), "count(*) (table never analyzed)");
            }
        } catch (SQLException e) {
            return new RowEstimate(-1, "unknown (never analyzed; count(*) took too long)");
        } finally {
            c.rollback();
            c.setAutoCommit(autoCommit);
        }
    }
}
