package dev.shapeshift.worker.sync;

import dev.shapeshift.db.Database;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sync consumer's one database session ({@code shapeshift-worker-sync}), opened when first
 * needed, with an {@code idle_in_transaction_session_timeout} so a frozen worker never holds row
 * locks for long; dropped after a failure that broke it, and opened again by the next batch.
 */
final class SyncConnection {
    private static final Logger log = LoggerFactory.getLogger(SyncConnection.class);

    private final Database db;
    private final Duration idleInTransaction;
    private final String migration;
    private Connection conn;

    SyncConnection(Database db, Duration idleInTransaction, String migration) {
        this.db = db;
        this.idleInTransaction = idleInTransaction;
        this.migration = migration;
    }

    Connection get() {
        if (conn == null) {
            conn = db.connect("worker-sync", idleInTransaction);
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
