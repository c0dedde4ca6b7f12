package dev.shapeshift.worker.sync;

import dev.shapeshift.db.Database;
import dev.shapeshift.refresh.SessionOrigin;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sync consumer's one database session ({@code shapeshift-worker-sync}), opened when first
 * needed, with an {@code idle_in_transaction_session_timeout} so a frozen worker never holds row
 * locks for long; dropped after a failure that broke it, and opened again by the next batch.
 *
 * <p>When its refreshes are echoes the bridge captures, the session also runs under a replication
 * origin ({@link SessionOrigin}, PostgreSQL 16+), so a bridge streaming with {@code origin = 'none'}
 * never decodes them (docs/sync.md, "Echo suppression"); the refreshes keep their echo mark. Other
 * logical slots are looked for when the session opens and then at most every
 * {@link #ORIGIN_CHECK_EVERY}, not at every batch: the check is a query on the application's
 * database, and a batch comes every poll.
 */
final class SyncConnection {
    private static final Logger log = LoggerFactory.getLogger(SyncConnection.class);
    /** How often an open session looks again for logical slots that are not a bridge's (the bridge's own watch interval). */
    static final Duration ORIGIN_CHECK_EVERY = Duration.ofSeconds(5);

    private final Database db;
    private final Duration idleInTransaction;
    private final String migration;
    private final SessionOrigin origin;
    private Connection conn;
    private long originCheckedAt;

    /** @param echoes whether the refreshes are echoes the bridge captures (they carry the echo mark, not sink mode) */
    SyncConnection(Database db, Duration idleInTransaction, String migration, boolean echoes) {
        this.db = db;
        this.idleInTransaction = idleInTransaction;
        this.migration = migration;
        this.origin = new SessionOrigin(SessionOrigin.Role.SYNC, migration, echoes);
    }

    /** The session, between transactions (autocommit). */
    Connection get() {
        if (conn == null) {
            conn = db.connect("worker-sync", idleInTransaction);
            origin.check(conn);
            originCheckedAt = System.nanoTime();
        } else if (System.nanoTime() - originCheckedAt >= ORIGIN_CHECK_EVERY.toNanos()) {
            origin.check(conn);
            originCheckedAt = System.nanoTime();
        }
        return conn;
    }

    /** After a failure: if the connection is gone (server restart, idle-in-transaction kill), drop it. */
    boolean dropIfBroken() {
        if (conn == null) {
            return true;
        }
        boolean valid;
        try {
            valid = conn.isValid(2);
        } catch (SQLException e) {
            valid = false;
        }
        if (!valid) {
            close();
        }
        return !valid;
    }

    void close() {
        origin.closed();
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException e) {
                log.debug("closing sync connection failed migration={} sqlstate={}", migration, e.getSQLState());
            }
            conn = null;
        }
    }
}
