package dev.shapeshift.db;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.DurationText;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way Shapeshift runs DDL on an application's tables (expand, enforcement, contract,
 * archive, clean-up, rollback, restore): every attempt runs with a short {@code lock_timeout}, so
 * a statement waiting for its lock gives up before the queue it heads (an ACCESS EXCLUSIVE request
 * blocks every later reader of the table) hurts the application; a lock timeout or deadlock is
 * retried a bounded number of times after a pause that grows with jitter.
 *
 * <p>While an attempt runs, a watcher looks up from a second session which sessions block it
 * ({@code pg_blocking_pids}): their pid, {@code application_name}, state and transaction age go
 * into each retry's log line and, when the attempts run out, into the failure's message with the
 * fix. Statements that cannot run inside a transaction block ({@code CREATE INDEX CONCURRENTLY},
 * {@code DROP INDEX CONCURRENTLY}) go through {@link #outsideTransaction}.
 *
 * <p>The timeout and attempts are process-wide ({@link Policy#fromEnvironment()}): environment
 * {@code SHAPESHIFT_DDL_LOCK_TIMEOUT} (a duration, default 2s) and {@code SHAPESHIFT_DDL_ATTEMPTS}
 * (default 10).
 *
 * <p>Why one class of ~380 lines: the policy, the attempts with their back-off and the watcher that
 * names the blockers are one retry loop around one statement; {@link #briefly} is the no-retry
 * variant the same rules need inside a caller's transaction.
 */
public record LockSafeDdl(Database db, String role, Policy policy) {
    private static final Logger log = LoggerFactory.getLogger(LockSafeDdl.class);
    private static final ScheduledExecutorService WATCHER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "shapeshift-ddl-blocker-watch");
        t.setDaemon(true);
        return t;
    });

    /** SQL that runs on a connection, inside the runner's transaction or in autocommit. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * @param lockTimeout the {@code lock_timeout} of every attempt
     * @param attempts    attempts before giving up (at least 1)
     * @param firstPause  the pause after the first busy attempt; doubled each time, with jitter
     * @param maxPause    the longest pause
     */
    public record Policy(Duration lockTimeout, int attempts, Duration firstPause, Duration maxPause) {
        public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(2);
        public static final int DEFAULT_ATTEMPTS = 10;
        public static final String TIMEOUT_VARIABLE = "SHAPESHIFT_DDL_LOCK_TIMEOUT";
        public static final String ATTEMPTS_VARIABLE = "SHAPESHIFT_DDL_ATTEMPTS";

        public Policy {
            if (lockTimeout == null || lockTimeout.toMillis() < 1) {
                throw invalid("the DDL lock timeout must be at least 1ms, got " + lockTimeout);
            }
            if (attempts < 1) {
                throw invalid("DDL attempts must be at least 1, got " + attempts);
            }
            if (firstPause == null || firstPause.isNegative() || maxPause == null || maxPause.compareTo(firstPause) < 0) {
                throw invalid("DDL retry pauses must satisfy 0 <= firstPause <= maxPause");
            }
        }

        public static Policy defaults() {
            return new Policy(DEFAULT_LOCK_TIMEOUT, DEFAULT_ATTEMPTS, Duration.ofMillis(200), Duration.ofSeconds(5));
        }

        /** The defaults, overridden by {@value #TIMEOUT_VARIABLE} and {@value #ATTEMPTS_VARIABLE}; a bad value fails. */
        public static Policy fromEnvironment() {
            return from(System.getenv());
        }

        static Policy from(Map<String, String> env) {
            Policy p = defaults();
            Duration timeout = p.lockTimeout();
            int attempts = p.attempts();
            String t = env.get(TIMEOUT_VARIABLE);
            if (t != null && !t.isBlank()) {
                try {
                    timeout = DurationText.parse(t.strip());
                } catch (IllegalArgumentException e) {
                    throw invalid(TIMEOUT_VARIABLE + "=" + t + ": " + e.getMessage() + " (e.g. 2s, 500ms)");
                }
            }
            String a = env.get(ATTEMPTS_VARIABLE);
            if (a != null && !a.isBlank()) {
                try {
                    attempts = Integer.parseInt(a.strip());
                } catch (NumberFormatException e) {
                    throw invalid(ATTEMPTS_VARIABLE + "=" + a + " is not a whole number (e.g. 10)");
                }
            }
            return new Policy(timeout, attempts, p.firstPause(), p.maxPause());
        }

        /** The pause before attempt {@code attempt + 1}: doubling from {@code firstPause}, capped, then 50-100% of it. */
        Duration pauseAfter(int attempt) {
            long ms = firstPause.toMillis() << Math.min(attempt - 1, 20);
            ms = Math.min(ms, maxPause.toMillis());
            return Duration.ofMillis(ms / 2 + ThreadLocalRandom.current().nextLong(ms / 2 + 1));
        }

        private static ShapeshiftException invalid(String message) {
            return new ShapeshiftException(ErrorCode.CONFIG_INVALID, "DDL lock policy: " + message);
        }
    }

    /**
     * A session that blocked an attempt, as {@code pg_stat_activity} showed it.
     *
     * @param waitingFor the lock the attempt waited for, e.g. {@code AccessExclusiveLock on public.users}
     */
    public record Blocker(int pid, String applicationName, String state, long transactionSeconds, String waitingFor) {
        public String describe() {
            return "pid " + pid + " (application_name=" + (applicationName == null || applicationName.isEmpty()
                    ? "<none>" : applicationName) + ", state=" + state + ", transaction open "
                    + (transactionSeconds < 0 ? "-" : transactionSeconds + "s") + ")";
        }
    }

    /** With the process-wide policy ({@link Policy#fromEnvironment()}). */
    public static LockSafeDdl of(Database db, String role) {
        return new LockSafeDdl(db, role, Policy.fromEnvironment());
    }

    /**
     * Runs {@code work} in one transaction with {@code SET LOCAL lock_timeout}; a lock timeout or
     * deadlock rolls it back and tries again. Anything else fails at once.
     *
     * @param doing what the work does, for messages ("expanding users-verified")
     * @throws ShapeshiftException {@code TRANSIENT} naming the blockers when the attempts ran out;
     *                             else the database error translated, its {@link SQLException} the cause
     */
    public <T> T inTransaction(String doing, Work<T> work) {
        return retrying(doing, true, work);
    }

    /**
     * Runs {@code work} in autocommit with the session's {@code lock_timeout} set, for statements
     * that cannot run in a transaction block (e.g. {@code CREATE INDEX CONCURRENTLY}). A retried
     * {@code CREATE INDEX CONCURRENTLY} may have left an INVALID index: the work must cope with one.
     */
    public <T> T outsideTransaction(String doing, Work<T> work) {
        return retrying(doing, false, work);
    }

    /** One statement in autocommit, retried like {@link #outsideTransaction(String, Work)}. */
    public void outsideTransaction(String doing, String statement) {
        outsideTransaction(doing, c -> {
            try (Statement s = c.createStatement()) {
                s.execute(statement);
            }
            return null;
        });
    }

    private <T> T retrying(String doing, boolean transaction, Work<T> work) {
        List<Blocker> lastBlockers = List.of();
        for (int attempt = 1; ; attempt++) {
            Watch watch = null;
            try (Connection c = db.connect(role)) {
                watch = new Watch(db, backendPid(c), policy.lockTimeout());
                try {
                    return attempt(c, transaction, work);
                } finally {
                    watch.close();
                }
            } catch (SQLException e) {
                if (!lockBusy(e)) {
                    throw SqlStates.translate(doing, e);
                }
                List<Blocker> seen = watch == null ? List.of() : watch.blockers();
                if (!seen.isEmpty()) {
                    lastBlockers = seen;
                }
                if (attempt >= policy.attempts()) {
                    throw gaveUp(doing, attempt, lastBlockers, e);
                }
                Duration pause = policy.pauseAfter(attempt);
                log.warn("DDL lock busy, retrying doing={} attempt={} of={} lock_timeout_ms={} pause_ms={} sqlstate={} "
                                + "blockers={}", doing, attempt, policy.attempts(), policy.lockTimeout().toMillis(),
                        pause.toMillis(), e.getSQLState(), describe(seen));
                Backoff.sleep(pause, "interrupted while waiting to retry DDL");
            }
        }
    }

    private <T> T attempt(Connection c, boolean transaction, Work<T> work) throws SQLException {
        String timeout = "'" + policy.lockTimeout().toMillis() + "ms'";
        if (!transaction) {
            try (Statement s = c.createStatement()) {
                s.execute("SET lock_timeout = " + timeout);
            }
            return work.run(c);
        }
        c.setAutoCommit(false);
        return Transactions.commitOrRollback(c, tx -> {
            try (Statement s = tx.createStatement()) {
                s.execute("SET LOCAL lock_timeout = " + timeout);
            }
            return work.run(tx);
        });
    }

    private ShapeshiftException gaveUp(String doing, int attempts, List<Blocker> blockers, SQLException last) {
        String who = blockers.isEmpty()
                ? "the blocking session had gone each time it was looked for; look in pg_locks / pg_stat_activity"
                : "waiting for " + blockers.get(0).waitingFor() + ", held by " + describe(blockers)
                + "; commit or end that transaction (pg_terminate_backend(" + blockers.get(0).pid()
                + ") if it is stuck)";
        String message = doing + " failed: gave up after " + attempts + " attempt(s) with lock_timeout "
                + DurationText.format(policy.lockTimeout()) + " (" + Policy.TIMEOUT_VARIABLE + "): " + who
                + " (SQLState " + last.getSQLState() + ")";
        log.error("DDL gave up doing={} attempts={} blockers={}", doing, attempts, describe(blockers));
        return new ShapeshiftException(ErrorCode.TRANSIENT, message, last);
    }

    static String describe(List<Blocker> blockers) {
        return blockers.isEmpty() ? "[]" : blockers.stream().map(Blocker::describe).collect(Collectors.joining(", "));
    }

    /**
     * Whether PostgreSQL refuses {@code sql} inside a transaction block ({@code CONCURRENTLY}
     * index builds and drops, {@code REINDEX … CONCURRENTLY}, {@code VACUUM}): such a statement
     * runs on its own through {@link #outsideTransaction(String, String)}.
     */
    public static boolean cannotRunInTransaction(String sql) {
        String s = ConcurrentIndex.stripLeadingComments(sql).toLowerCase(java.util.Locale.ROOT);
        return OWN_SESSION.matcher(s).find();
    }

    private static final java.util.regex.Pattern OWN_SESSION = java.util.regex.Pattern.compile(
            "^\\s*(create\\s+(unique\\s+)?index\\s+concurrently|drop\\s+index\\s+concurrently"
            + "|reindex\\b.*\\bconcurrently\\b|vacuum\\b|alter\\s+table\\s+.*\\bdetach\\s+partition\\b.*\\bconcurrently\\b)",
            java.util.regex.Pattern.DOTALL);

    /**
     * DDL in the caller's transaction that takes a table's lock briefly or not at all: it runs under a
     * local {@code lock_timeout} of {@code lockTimeout}, and a time-out becomes a TRANSIENT error
     * "{@code cannot}: the table's lock was not granted within … (a long transaction holds it);
     * nothing changed, try again". No retry here: the caller's whole transaction fails, and so
     * nothing is half done (the write switch's NOT NULL relax and replica identity, the read counter).
     */
    public static <T> T briefly(Connection c, String lockTimeout, String cannot, Work<T> work) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL lock_timeout = '" + lockTimeout + "'");
        }
        try {
            return work.run(c);
        } catch (SQLException e) {
            if ("55P03".equals(e.getSQLState())) {
                throw new ShapeshiftException(ErrorCode.TRANSIENT, cannot + ": the table's lock was not granted within "
                        + lockTimeout + " (a long transaction holds it); nothing changed, try again", e);
            }
            throw e;
        }
    }

    /** Lock not available (lock_timeout) or deadlock: worth another attempt. */
    public static boolean lockBusy(SQLException e) {
        return "55P03".equals(e.getSQLState()) || "40P01".equals(e.getSQLState());
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * Looks every third of the lock timeout for the sessions blocking one backend, from a second
     * session opened on first need; keeps the latest non-empty answer.
     */
    private static final class Watch {
        private static final String BLOCKERS = "SELECT a.pid, a.application_name, a.state, "
                + "coalesce(extract(epoch FROM now() - a.xact_start)::bigint, -1), "
                + "(SELECT w.mode || ' on ' || coalesce(w.relation::regclass::text, w.locktype) FROM pg_locks w "
                + "WHERE w.pid = ? AND NOT w.granted LIMIT 1) "
                + "FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids(?)) ORDER BY a.xact_start";
        private final Database db;
        private final int pid;
        private final ScheduledFuture<?> task;
        private Connection watcher;
        private List<Blocker> blockers = List.of();
        private boolean closed;

        Watch(Database db, int pid, Duration lockTimeout) {
            this.db = db;
            this.pid = pid;
            long every = Math.max(50, lockTimeout.toMillis() / 3);
            this.task = WATCHER.scheduleWithFixedDelay(this::look, every, every, TimeUnit.MILLISECONDS);
        }

        private synchronized void look() {
            if (closed) {
                return;
            }
            try {
                if (watcher == null) {
                    watcher = db.connect("ddl-watch");
                }
                List<Blocker> found = new ArrayList<>();
                found.addAll(Sql.list(watcher, BLOCKERS,
                        rs -> new Blocker(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getLong(4),
                                rs.getString(5) == null ? "a lock" : rs.getString(5)), pid, pid));
                if (!found.isEmpty()) {
                    blockers = List.copyOf(found);
                }
            } catch (SQLException | RuntimeException e) {
                log.debug("looking for DDL blockers failed pid={} error={}", pid, e.getMessage());
            }
        }

        synchronized List<Blocker> blockers() {
            return blockers;
        }

        synchronized void close() {
            closed = true;
            task.cancel(false);
            if (watcher != null) {
                try {
                    watcher.close();
                } catch (SQLException e) {
                    log.debug("closing the DDL watch session failed error={}", e.getMessage());
                }
                watcher = null;
            }
        }
    }
}
