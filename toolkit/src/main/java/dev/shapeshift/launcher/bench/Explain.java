package dev.shapeshift.launcher.bench;

import dev.shapeshift.refresh.Guards;
import dev.shapeshift.refresh.RefreshSql;
import dev.shapeshift.spec.ResolvedSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The plans of one backfill sub-batch statement on a fresh table: the generic plan (what a
 * server-side prepared statement may switch to after five executions) and the executed custom plan
 * with buffers and WAL, rolled back. Shows whether the keyset range is an index scan, and what the
 * row lock and the conflict check write.
 */
final class Explain {
    private Explain() {
    }

    static List<String> backfillStatement(Connection c, ResolvedSpec resolved, long after, long upTo, int limit)
            throws SQLException {
        String sql = new RefreshSql(resolved, Guards.BACKFILL).forRange(true, true);
        List<String> out = new ArrayList<>();
        out.add("-- statement");
        out.add(sql);
        StringBuilder numbered = new StringBuilder();
        int n = 0;
        for (char ch : sql.toCharArray()) {
            if (ch == '?') {
                numbered.append('$').append(++n);
            } else {
                numbered.append(ch);
            }
        }
        out.add("-- generic plan (plan_cache_mode = force_generic_plan, EXPLAIN EXECUTE of a PREPAREd statement)");
        try (Statement s = c.createStatement()) {
            // $n inside PREPARE belong to the prepared statement, so the driver binds nothing.
            s.execute("PREPARE bench_subbatch AS " + numbered);
            s.execute("SET plan_cache_mode = force_generic_plan");
            try (ResultSet rs = s.executeQuery("EXPLAIN EXECUTE bench_subbatch('" + after + "', '" + upTo + "', " + limit + ")")) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            } finally {
                s.execute("RESET plan_cache_mode");
                s.execute("DEALLOCATE bench_subbatch");
            }
        }
        out.add("-- EXPLAIN (ANALYZE, BUFFERS, WAL), rolled back; range (" + after + ", " + upTo + "], limit " + limit);
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS, WAL) " + sql)) {
            ps.setString(1, Long.toString(after));
            ps.setString(2, Long.toString(upTo));
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        } finally {
            c.rollback();
            c.setAutoCommit(auto);
        }
        return out;
    }
}
