package dev.shapeshift.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;

/**
 * The one plain transaction helper: the work runs in one transaction, committed when it returns and
 * rolled back when it throws; a {@link SQLException} becomes a {@link
 * dev.shapeshift.error.ShapeshiftException} naming what was being done ({@link SqlStates#translate}).
 * DDL that must not queue the application behind it goes through {@link LockSafeDdl} instead, and
 * the worker's write transactions (lock timeouts, retries, the echo mark) through {@code
 * WorkerTransactions}.
 */
public final class Transactions {

    /** Work inside one transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private Transactions() {
    }

    /** On a fresh connection of {@code role} ({@code application_name = shapeshift-<role>}), closed after. */
    public static <T> T run(Database db, String role, String doing, Work<T> work) {
        try (Connection c = db.connect(role)) {
            return run(c, doing, work);
        } catch (SQLException e) {
            throw SqlStates.translate(doing, e);
        }
    }

    /** On the caller's connection; autocommit is on again afterwards. */
    public static <T> T run(Connection c, String doing, Work<T> work) {
        try {
            c.setAutoCommit(false);
            try {
                return commitOrRollback(c, work);
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw SqlStates.translate(doing, e);
        }
    }

    /**
     * {@code work} that must not spoil the caller's transaction when it fails (a probe, a side
     * record): inside a transaction it runs under a savepoint, released when it returns and rolled
     * back to when it throws, so the transaction stays usable; with autocommit on it just runs. The
     * error is rethrown as it was.
     */
    public static <T> T contained(Connection c, Work<T> work) throws SQLException {
        if (c.getAutoCommit()) {
            return work.run(c);
        }
        Savepoint sp = c.setSavepoint();
        try {
            T result = work.run(c);
            c.releaseSavepoint(sp);
            return result;
        } catch (SQLException | RuntimeException e) {
            c.rollback(sp);
            throw e;
        }
    }

    /**
     * The body of every transaction: {@code work} on {@code c} (autocommit already off), committed
     * when it returns, rolled back when it throws (and the error rethrown as it was).
     */
    public static <T> T commitOrRollback(Connection c, Work<T> work) throws SQLException {
        try {
            T result = work.run(c);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        }
    }
}
