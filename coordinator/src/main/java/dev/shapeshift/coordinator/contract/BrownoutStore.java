package dev.shapeshift.coordinator.contract;

import dev.shapeshift.coordinator.contract.Brownout.Status;
import dev.shapeshift.db.Sql;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The catalog tables {@code shapeshift.brownout} (one row a brownout: its window, who was locked out,
 * the undo, how far the server log was read, how it ended) and {@code shapeshift.brownout_failure}
 * (the failed statements of others, one row per identity and statement). Every statement on them
 * is here, each in the caller's transaction; {@link Brownout} decides.
 */
final class BrownoutStore {
    private BrownoutStore() {
    }

    /** A running brownout's row; returns its id. */
    static long start(Connection c, String migration, Duration window, Lockout lockout, List<String> untouched,
                      ServerLog.Start logAt) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.brownout (migration, status, started_at, "
                + "ends_at, locked_out, untouched, undo_sql, log_file, log_offset, log_problem) "
                + "VALUES (?, 'running', clock_timestamp(), clock_timestamp() + ?::interval, ?, ?, ?, ?, ?, ?) RETURNING id")) {
            ps.setString(1, migration);
            ps.setString(2, window.toMillis() + " milliseconds");
            ps.setArray(3, c.createArrayOf("text", lockout.lockedOut().toArray()));
            ps.setString(4, untouched.isEmpty() ? null : String.join(", ", untouched));
            ps.setArray(5, c.createArrayOf("text", lockout.undo().toArray()));
            ps.setString(6, logAt.position() == null ? null : logAt.position().file());
            ps.setObject(7, logAt.position() == null ? null : logAt.position().offset());
            ps.setString(8, logAt.problem());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static void logProblem(Connection c, long id, String problem) throws SQLException {
        Sql.update(c, "UPDATE shapeshift.brownout SET log_problem = ? WHERE id = ?", problem, id);
    }

    /** How far the server log has been read. */
    static void logRead(Connection c, long id, ServerLog.Position next) throws SQLException {
        Sql.update(c, "UPDATE shapeshift.brownout SET log_file = ?, log_offset = ? WHERE id = ?",
                next.file(), next.offset(), id);
    }

    /** One more failure of an identity and statement (the first creates the row). */
    static void failure(Connection c, long id, ServerLog.Entry e, String client, String statement) throws SQLException {
        Sql.update(c, "INSERT INTO shapeshift.brownout_failure (brownout_id, role_name, "
                + "application_name, client, sql_state, message, statement, failures, first_at, last_at) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?::timestamptz, ?::timestamptz) "
                + "ON CONFLICT (brownout_id, role_name, application_name, client, sql_state, statement) DO UPDATE SET "
                + "failures = brownout_failure.failures + 1, last_at = greatest(brownout_failure.last_at, EXCLUDED.last_at), "
                + "message = EXCLUDED.message",
                id, e.user(), e.applicationName(), client, e.sqlState(), e.message(), statement, e.logTime(),
                e.logTime());
    }

    /** Ends a running brownout (a no-op when it has ended). */
    static void end(Connection c, long id, Status status, String reason, double undoMs) throws SQLException {
        Sql.update(c, "UPDATE shapeshift.brownout SET status = ?, ended_at = "
                + "clock_timestamp(), end_reason = ?, undo_ms = ? WHERE id = ? AND status = 'running'",
                status.sql(), reason, undoMs, id);
    }

    /** The latest brownout of a migration with its failures; null when none ran. */
    static BrownoutReport latest(Connection c, String migration) throws SQLException {
        BrownoutReport b = Sql.one(c, "SELECT id, status, started_at, ends_at, ended_at, end_reason, "
                + "locked_out, untouched, undo_sql, undo_ms, log_file, log_offset, log_problem, clock_timestamp() "
                + "FROM shapeshift.brownout WHERE migration = ? ORDER BY id DESC LIMIT 1", rs -> {
                    double undoMs = rs.getDouble(10);
                    Double undo = rs.wasNull() ? null : undoMs;
                    long offset = rs.getLong(12);
                    Long logOffset = rs.wasNull() ? null : offset;
                    return new BrownoutReport(rs.getLong(1), Brownout.Status.of(rs.getString(2)),
                            instant(rs.getTimestamp(3)), instant(rs.getTimestamp(4)), instant(rs.getTimestamp(5)),
                            rs.getString(6), strings(rs.getArray(7)), rs.getString(8), strings(rs.getArray(9)), undo,
                            rs.getString(11), logOffset, rs.getString(13), instant(rs.getTimestamp(14)), List.of());
                }, migration);
        return b == null ? null : b.withFailures(failures(c, b.id()));
    }

    private static List<BrownoutReport.Failure> failures(Connection c, long id) throws SQLException {
        List<BrownoutReport.Failure> out = new ArrayList<>();
        out.addAll(Sql.list(c, "SELECT role_name, application_name, client, sql_state, message, "
                + "statement, failures, first_at, last_at FROM shapeshift.brownout_failure WHERE brownout_id = ? "
                + "ORDER BY failures DESC, role_name, statement",
                rs -> new BrownoutReport.Failure(rs.getString(1), emptyToNull(rs.getString(2)), emptyToNull(rs.getString(3)),
                        rs.getString(4), rs.getString(5), rs.getString(6), rs.getInt(7),
                        instant(rs.getTimestamp(8)), instant(rs.getTimestamp(9))), id));
        return out;
    }

    private static List<String> strings(Array a) throws SQLException {
        return a == null ? List.of() : Arrays.asList((String[]) a.getArray());
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
