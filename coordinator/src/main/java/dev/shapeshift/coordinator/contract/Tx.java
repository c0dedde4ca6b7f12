package dev.shapeshift.coordinator.contract;

import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.db.Transactions;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The contract package's short names for {@link Transactions#run(Database, String, String, Transactions.Work)}
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
        return Transactions.run(db, role, doing, work::run);
    }

    /**
     * Runs DDL work in one transaction through {@link LockSafeDdl}: a short {@code lock_timeout},
     * bounded retries with back-off and jitter, the blocking sessions named when it gives up.
     */
    static <T> T ddl(Database db, String role, String doing, Work<T> work) {
        return LockSafeDdl.of(db, role).inTransaction(doing, work::run);
    }
}
