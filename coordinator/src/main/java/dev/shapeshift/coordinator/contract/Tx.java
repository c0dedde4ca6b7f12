package dev.shapeshift.coordinator.contract;

import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;

/**
 * One transaction on a fresh Shapeshift connection ({@code application_name = shapeshift-<role>}),
 * and DDL that must not queue the application behind it ({@link LockSafeDdl}).
 */
final class Tx {

    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private Tx() {
    }

    static <T> T run(Database db, String role, String doing, Work<T> work) {
        try (Connection c = db.connect(role)) {
            c.setAutoCommit(false);
            try {
                T out = work.run(c);
                c.commit();
                return out;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw SqlStates.translate(doing, e);
        }
    }

    /**
     * Runs DDL work in one transaction through {@link LockSafeDdl}: a short {@code lock_timeout},
     * bounded retries with back-off and jitter, the blocking sessions named when it gives up.
     */
    static <T> T ddl(Database db, String role, String doing, Work<T> work) {
        return LockSafeDdl.of(db, role).inTransaction(doing, work::run);
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted", e);
        }
    }
}
