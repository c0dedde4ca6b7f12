package dev.shapeshift.refresh;

import dev.shapeshift.db.Backoff;
import dev.shapeshift.db.SqlStates;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs worker work in short transactions that yield to the application: a short
 * {@code lock_timeout}, a low {@code deadlock_timeout} where the role may set it (so that in a
 * deadlock the worker is the one that detects it and is aborted), and retries with jittered
 * exponential back-off on lock timeouts, deadlocks and serialization failures.
 */
public final class WorkerTransactions {
    private static final Logger log = LoggerFactory.getLogger(WorkerTransactions.class);

    /** A unit of work inside one transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * @param lockTimeout     how long a worker statement waits for a row lock before it gives up
     * @param deadlockTimeout the worker's deadlock_timeout, below the application's (default 1s)
     * @param maxAttempts     attempts before a transient failure is reported
     * @param firstBackoff    the first retry delay; doubled each attempt, with jitter
     * @param maxBackoff      the longest retry delay
     */
    public record Policy(Duration lockTimeout, Duration deadlockTimeout, int maxAttempts,
                         Duration firstBackoff, Duration maxBackoff) {
        public static final Policy DEFAULT = new Policy(Duration.ofMillis(200), Duration.ofMillis(100), 8,
                Duration.ofMillis(50), Duration.ofSeconds(5));
    }

    private final Policy policy;
    /** Whether a connection's role may lower deadlock_timeout (a superuser-only setting); asked once per connection. */
    private final Map<Connection, Boolean> deadlockTunable = Collections.synchronizedMap(new WeakHashMap<>());

    public WorkerTransactions(Policy policy) {
        this.policy = policy;
    }

    public Policy policy() {
        return policy;
    }

    /**
     * Prefix of the transactional logical-decoding message that marks a worker's transaction. In
     * in-place mode the workers write to the source table, so their writes come back through CDC;
     * the bridge drops the changes of transactions carrying this mark (echo suppression).
     */
    public static final String ECHO_MESSAGE_PREFIX = "shapeshift.echo";

    /**
     * The echo mark a migration's worker transactions carry, or null when none is needed: the
     * bridge captures the tables workers write in place (the source table) and, in table mode with
     * a write switch, both tables (the target too, for the reverse sync), so those transactions are
     * marked and their changes dropped. Table mode without a write switch captures only the source,
     * which workers never write.
     */
    public static String echoMark(dev.shapeshift.spec.ResolvedSpec resolved) {
        var spec = resolved.spec();
        boolean captured = spec.mode() == dev.shapeshift.spec.Mode.IN_PLACE || spec.writes().switchWrites();
        return captured ? spec.name() : null;
    }

    /**
     * Marks the transaction open on {@code c} as an echo of migration {@code echoMark}: a transactional
     * logical message {@value #ECHO_MESSAGE_PREFIX} with it as content, by which the bridge drops the
     * transaction's changes.
     */
    public static void emitEchoMark(Connection c, String echoMark) throws SQLException {
        try (var ps = c.prepareStatement("SELECT pg_logical_emit_message(true, ?, ?)")) {
            ps.setString(1, ECHO_MESSAGE_PREFIX);
            ps.setString(2, echoMark);
            ps.execute();
        }
    }

    /** Runs {@code work} in a transaction, retrying transient failures; other failures are thrown at once. */
    public <T> T run(Connection c, Work<T> work) {
        return run(c, null, work);
    }

    /**
     * Like {@link #run(Connection, Work)}; when {@code echoMark} is not null the transaction first
     * emits a transactional logical message {@value #ECHO_MESSAGE_PREFIX} with it as content, so
     * the bridge can drop this transaction's own changes to the source table.
     */
    public <T> T run(Connection c, String echoMark, Work<T> work) {
        boolean mayTuneDeadlock = deadlockTunable.computeIfAbsent(c, WorkerTransactions::maySetDeadlockTimeout);
        for (int attempt = 1; ; attempt++) {
            try {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.execute("SET LOCAL lock_timeout = " + policy.lockTimeout().toMillis());
                    if (mayTuneDeadlock) {
                        s.execute("SET LOCAL deadlock_timeout = " + policy.deadlockTimeout().toMillis());
                    }
                }
                if (echoMark != null) {
                    emitEchoMark(c, echoMark);
                }
                T result = work.run(c);
                c.commit();
                return result;
            } catch (RuntimeException e) {
                // Roll back before the finally block restores autocommit: turning autocommit on
                // inside an open transaction would commit the half-done work.
                rollbackQuietly(c);
                throw e;
            } catch (SQLException e) {
                rollbackQuietly(c);
                if (!SqlStates.isTransient(e) || attempt >= policy.maxAttempts()) {
                    throw SqlStates.translate("worker transaction (attempt " + attempt + ")", e);
                }
                Duration delay = backoff(attempt);
                log.debug("transient failure, retrying sqlstate={} attempt={} delay_ms={}",
                        e.getSQLState(), attempt, delay.toMillis());
                Backoff.sleep(delay, "interrupted while backing off");
            } finally {
                restoreAutoCommit(c);
            }
        }
    }

    Duration backoff(int attempt) {
        long base = policy.firstBackoff().toMillis() << Math.min(attempt - 1, 20);
        long capped = Math.min(base, policy.maxBackoff().toMillis());
        return Duration.ofMillis(capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1));
    }

    private static boolean maySetDeadlockTimeout(Connection c) {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('is_superuser') = 'on'")) {
            return rs.next() && rs.getBoolean(1);
        } catch (SQLException e) {
            throw SqlStates.translate("reading session privileges", e);
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            log.debug("rollback failed sqlstate={}", e.getSQLState());
        }
    }

    private static void restoreAutoCommit(Connection c) {
        try {
            if (!c.isClosed()) {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            log.debug("could not restore autocommit sqlstate={}", e.getSQLState());
        }
    }
}
