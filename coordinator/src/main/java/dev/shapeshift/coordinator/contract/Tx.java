package dev.shapeshift.coordinator.contract;

import dev.shapeshift.db.Database;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One transaction on a fresh Shapeshift connection ({@code application_name = shapeshift-<role>}),
 * and DDL that must not queue the application behind it: a short {@code lock_timeout}, retried
 * with back-off.
 */
final class Tx {
    private static final Logger log = LoggerFactory.getLogger(Tx.class);
    static final String LOCK_TIMEOUT = "2s";
    static final int LOCK_ATTEMPTS = 10;

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
     * Runs DDL work in one transaction with {@code lock_timeout} set; a lock timeout or deadlock
     * rolls the whole transaction back and tries again after a growing pause (at most
     * {@link #LOCK_ATTEMPTS} times). Anything else fails at once.
     */
    static <T> T ddl(Database db, String role, String doing, Work<T> work) {
        Duration pause = Duration.ofMillis(200);
        for (int attempt = 1; ; attempt++) {
            try (Connection c = db.connect(role)) {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.execute("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT + "'");
                    T out = work.run(c);
                    c.commit();
                    return out;
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                }
            } catch (SQLException e) {
                boolean lockBusy = "55P03".equals(e.getSQLState()) || "40P01".equals(e.getSQLState());
                if (!lockBusy || attempt >= LOCK_ATTEMPTS) {
                    throw SqlStates.translate(doing + (lockBusy ? " (gave up after " + attempt
                            + " attempts: the table stayed locked by other sessions)" : ""), e);
                }
                log.warn("lock busy, retrying doing={} attempt={} pauseMs={}", doing, attempt, pause.toMillis());
                sleep(pause);
                pause = pause.multipliedBy(2).compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5) : pause.multipliedBy(2);
            }
        }
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
