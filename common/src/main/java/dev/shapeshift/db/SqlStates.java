package dev.shapeshift.db;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.SQLException;
import java.util.Set;

/** Classifies database errors by SQLState (never by message text). */
public final class SqlStates {
    /** lock_not_available, deadlock_detected, serialization_failure, query_canceled (statement/lock timeout). */
    private static final Set<String> TRANSIENT = Set.of("55P03", "40P01", "40001", "57014");

    private SqlStates() {
    }

    public static boolean isTransient(SQLException e) {
        return e.getSQLState() != null && TRANSIENT.contains(e.getSQLState());
    }

    /**
     * Class 08 (connection exception), 57P0x (server shutting down / cannot connect now) and 25P03
     * (the server ended the session after {@code idle_in_transaction_session_timeout}: a worker
     * frozen or starved of CPU inside a transaction). In each the session is gone and its
     * transaction rolled back, so a new session may try again; 25P03 was a permanent failure
     * before, which left a chunk failed for good after a pause of a few seconds (found by the soak,
     * bench/results/2026-12-06-soak-60min.md).
     */
    public static boolean isUnreachable(SQLException e) {
        String s = e.getSQLState();
        return s != null && (s.startsWith("08") || s.startsWith("57P") || s.equals("25P03"));
    }

    public static ErrorCode classify(SQLException e) {
        if (isTransient(e)) {
            return ErrorCode.TRANSIENT;
        }
        if (isUnreachable(e)) {
            return ErrorCode.UNREACHABLE;
        }
        return ErrorCode.INTERNAL;
    }

    /** Wraps a SQLException into the one exception type, keeping the cause. */
    public static ShapeshiftException translate(String doing, SQLException e) {
        return new ShapeshiftException(classify(e),
                doing + " failed: " + e.getMessage() + " (SQLState " + e.getSQLState() + ")", e);
    }
}
