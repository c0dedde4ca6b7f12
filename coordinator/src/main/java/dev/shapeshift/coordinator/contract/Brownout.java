package dev.shapeshift.coordinator.contract;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The brownout before the drop ({@code contract.brownout}): for a window, the application roles
 * lose their access to the old shape ({@link Lockout}); the statements of others that fail on it
 * are collected from the server's CSV log ({@link ServerLog}) by role and statement; access comes
 * back at the end of the window, or at once when {@code contract.brownoutAbortAfter} failures are
 * seen, when the migration leaves {@code contract-ready}, or when an operator ends it.
 *
 * <p>The lockout commits with its {@code shapeshift.brownout} row, and the undo with the row's end:
 * a coordinator that dies mid-window leaves a running brownout whose undo (stored) the next driver
 * runs. Steps: {@link #start}, {@link #watch}, {@link #end}; the driver takes them.
 */
public final class Brownout {
    private static final Logger log = LoggerFactory.getLogger(Brownout.class);
    private static final String ROLE = "coordinator";
    private static final int STATEMENT_CHARS = 500;

    private final Database db;
    private final Catalog catalog;

    public Brownout(Database db) {
        this.db = db;
        this.catalog = new Catalog(db, ROLE);
    }

    /** How a brownout ended. */
    public enum Status {
        RUNNING, PASSED, FAILED, ABORTED;

        String sql() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Status of(String s) {
            return valueOf(s.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /**
     * Locks the application roles out of the old shape for {@code contract.brownout}. Refuses when
     * there is no one to lock out (every role with access is the owner, a superuser or
     * Shapeshift's): such a brownout tests nothing.
     */
    public BrownoutReport start(String migration, String actor) {
        MigrationRecord m = catalog.get(migration);
        OldShape shape = OldShape.of(m);
        if (shape.brownout() == null || !shape.dropsSomething()) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, migration + " has no contract.brownout in its spec"
                    + (shape.dropsSomething() ? "" : " that applies (the spec drops nothing)"));
        }
        if (m.phase() != dev.shapeshift.phase.Phase.CONTRACT_READY) {
            throw new ShapeshiftException(ErrorCode.ILLEGAL_TRANSITION, "a brownout runs in contract-ready only; "
                    + migration + " is " + m.phase());
        }
        long id = Tx.run(db, ROLE, "starting the brownout of " + migration, c -> {
            BrownoutReport running = latest(c, migration);
            if (running != null && running.status() == Status.RUNNING) {
                return running.id();
            }
            Set<Long> ours = Readers.shapeshiftRoles(c);
            Lockout lockout = Lockout.plan(c, shape, ours);
            if (lockout.lock().isEmpty()) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "brownout of " + migration + ": no role other "
                        + "than the owner, superusers and Shapeshift's has access to " + shape.describe()
                        + " (" + String.join(", ", Lockout.untouched(c, shape, ours)) + "), so a brownout cannot lock "
                        + "anyone out and tests nothing; give the application its own role with GRANTs, or remove "
                        + "contract.brownout from the spec");
            }
            ServerLog.Start logAt = logPosition(c);
            Lockout.run(c, lockout.lock());
            List<String> untouched = Lockout.untouched(c, shape, ours);
            long newId = BrownoutStore.start(c, migration, shape.brownout(), lockout, untouched, logAt);
            Catalog.audit(c, migration, actor, "brownout started", null, null, "brownout #" + newId + " for "
                    + dev.shapeshift.spec.DurationText.format(shape.brownout()) + ": revoked access of "
                    + lockout.lockedOut() + " to " + shape.describe()
                    + (untouched.isEmpty() ? "" : "; cannot lock out " + untouched));
            return newId;
        });
        log.warn("brownout started migration={} brownout={} window={}", migration, id, shape.brownout());
        return report(migration);
    }

    /**
     * Reads the server log since the last look and records the failures of others; returns the
     * brownout as it stands. Does not end it ({@link #due} says whether to).
     */
    public BrownoutReport watch(String migration) {
        MigrationRecord m = catalog.get(migration);
        OldShape shape = OldShape.of(m);
        Tx.run(db, ROLE, "reading the brownout failures of " + migration, c -> {
            BrownoutReport b = latest(c, migration);
            if (b == null || b.status() != Status.RUNNING || b.logFile() == null) {
                return null;
            }
            try (Savepoint sp = new Savepoint(c)) {
                collect(c, shape, b);
                sp.release();
            } catch (SQLException e) {
                // the window and the undo must not depend on the log: record why it cannot be read, go on
                BrownoutStore.logProblem(c, b.id(), "reading the server's CSV log failed: " + e.getMessage().strip());
            }
            return null;
        });
        return report(migration);
    }

    /** Why a running brownout should end now, or null: the window is over, or enough failures were seen. */
    public static String due(BrownoutReport b, int abortAfter) {
        if (b.failureCount() >= abortAfter) {
            return b.failureCount() + " failed statement(s) of others (contract.brownoutAbortAfter: " + abortAfter + ")";
        }
        if (!b.now().isBefore(b.endsAt())) {
            return "the window ended";
        }
        return null;
    }

    /**
     * Restores access (the stored undo, one transaction, timed) and records the outcome: passed when
     * the window ended without failures, failed with failures, aborted otherwise (an operator, a
     * phase change). Does nothing when no brownout runs.
     */
    public BrownoutReport end(String migration, String actor, String why, boolean windowOver) {
        MigrationRecord m = catalog.get(migration);
        OldShape shape = OldShape.of(m);
        Tx.run(db, ROLE, "ending the brownout of " + migration, c -> {
            String reason = why;
            BrownoutReport b = latest(c, migration);
            if (b == null || b.status() != Status.RUNNING) {
                return null;
            }
            if (b.logFile() != null) {
                try (Savepoint sp = new Savepoint(c)) {
                    collect(c, shape, b);
                    sp.release();
                } catch (SQLException e) {
                    log.warn("reading the server log failed at the end of the brownout migration={} error={}", migration,
                            e.getMessage());
                }
                b = latest(c, migration);
            }
            long t0 = System.nanoTime();
            List<String> problems = undo(c, b.undo());
            double ms = (System.nanoTime() - t0) / 1e6;
            if (!problems.isEmpty()) {
                reason = reason + "; " + problems.size() + " undo statement(s) failed and were skipped: "
                        + String.join("; ", problems);
                log.error("brownout undo statements failed migration={} brownout={} problems={}", migration, b.id(), problems);
            }
            Status status = b.failureCount() > 0 ? Status.FAILED : windowOver ? Status.PASSED : Status.ABORTED;
            BrownoutStore.end(c, b.id(), status, reason, ms);
            Catalog.audit(c, migration, actor, "brownout ended", null, null, "brownout #" + b.id() + " " + status.sql()
                    + ": " + reason + "; access restored (undo " + String.format(java.util.Locale.ROOT, "%.1f", ms) + " ms)"
                    + (b.failureCount() == 0 ? "" : "; failures: " + BrownoutReport.describe(b.failures(), 5)));
            log.warn("brownout ended migration={} brownout={} status={} undo_ms={} failures={} reason={}", migration,
                    b.id(), status, ms, b.failureCount(), reason);
            return null;
        });
        return report(migration);
    }

    /**
     * Runs the stored undo, each statement on its own savepoint: one that fails (a role dropped
     * during the window) is skipped and reported, and every other grant still comes back.
     */
    private static List<String> undo(Connection c, List<String> statements) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (String sql : statements) {
            try (Savepoint sp = new Savepoint(c)) {
                Lockout.run(c, List.of(sql));
                sp.release();
            } catch (SQLException e) {
                problems.add(sql + ": " + e.getMessage().strip());
            }
        }
        return problems;
    }

    /** The CSV log's position, on a savepoint: an error reading it (privileges) must not abort the lockout's transaction. */
    private static ServerLog.Start logPosition(Connection c) throws SQLException {
        try (Savepoint sp = new Savepoint(c)) {
            ServerLog.Start at = ServerLog.position(c);
            if (at.problem() == null) {
                sp.release();
            }
            return at;
        }
    }

    /** A savepoint rolled back on close unless released. */
    private static final class Savepoint implements AutoCloseable {
        private final Connection c;
        private java.sql.Savepoint sp;

        Savepoint(Connection c) throws SQLException {
            this.c = c;
            this.sp = c.setSavepoint();
        }

        void release() throws SQLException {
            c.releaseSavepoint(sp);
            sp = null;
        }

        @Override
        public void close() throws SQLException {
            if (sp != null) {
                c.rollback(sp);
            }
        }
    }

    /** The latest brownout of a migration with its failures; null when none ran. */
    public BrownoutReport report(String migration) {
        return Tx.run(db, ROLE, "reading the brownout of " + migration, c -> latest(c, migration));
    }

    /** The latest brownout of a migration with its failures (null when none), read on {@code c}. */
    public static BrownoutReport latest(Connection c, String migration) throws SQLException {
        return BrownoutStore.latest(c, migration);
    }

    private static void collect(Connection c, OldShape shape, BrownoutReport b) throws SQLException {
        ServerLog.Read read = ServerLog.since(c, new ServerLog.Position(b.logFile(), b.logOffset()));
        String database;
        try (PreparedStatement ps = c.prepareStatement("SELECT current_database()"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            database = rs.getString(1);
        }
        Set<String> ours = new java.util.HashSet<>();
        ours.addAll(Sql.list(c, "SELECT rolname FROM pg_roles WHERE oid::bigint = ANY (?)", rs -> rs.getString(1),
                c.createArrayOf("bigint", Readers.shapeshiftRoles(c).toArray())));
        ShapeMatcher matcher = ShapeMatcher.of(shape);
        for (ServerLog.Entry e : read.entries()) {
            if (!failedOnLockout(e, database, shape, matcher) || ours.contains(e.user())) {
                continue;
            }
            String statement = e.statement().replaceAll("\\s+", " ").strip();
            if (statement.length() > STATEMENT_CHARS) {
                statement = statement.substring(0, STATEMENT_CHARS - 3) + "...";
            }
            BrownoutStore.failure(c, b.id(), e, clientHost(e.client()), statement);
        }
        BrownoutStore.logRead(c, b.id(), read.next());
    }

    /**
     * An error of this database caused by the lockout: {@code permission denied for table <old
     * table>} (42501), or a permission error whose statement touches the old shape.
     */
    static boolean failedOnLockout(ServerLog.Entry e, String database, OldShape shape, ShapeMatcher matcher) {
        if (!"ERROR".equals(e.severity()) || !"42501".equals(e.sqlState()) || !database.equals(e.database())) {
            return false;
        }
        String table = shape.table();
        return e.message().contains("table " + table) || e.message().contains("table \"" + table + "\"")
                || matcher.match(e.statement()).isPresent();
    }

    /** {@code 10.0.0.5:51234} → {@code 10.0.0.5}; {@code [local]} → {@code local}: one identity per client host. */
    private static String clientHost(String from) {
        if (from == null || from.isEmpty()) {
            return "";
        }
        if (from.equals("[local]")) {
            return "local";
        }
        int colon = from.lastIndexOf(':');
        return colon > 0 ? from.substring(0, colon) : from;
    }

    /** For messages: {@code 15m} as the spec says it. */
    static String format(Duration d) {
        return dev.shapeshift.spec.DurationText.format(d);
    }
}
