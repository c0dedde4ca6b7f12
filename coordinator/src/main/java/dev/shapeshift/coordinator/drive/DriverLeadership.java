package dev.shapeshift.coordinator.drive;

import dev.shapeshift.db.Database;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One active driver per catalog: a session-level {@code pg_try_advisory_lock} on a dedicated
 * connection to the catalog's database (advisory locks are per database, and the catalog lives in
 * the source database). When the leader's process dies its connection closes and PostgreSQL
 * releases the lock, so a standby's next try wins; losing the connection means losing the lock,
 * and {@link #held} says so (the same scheme as the cdc-bridge's leadership).
 */
final class DriverLeadership implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DriverLeadership.class);
    /** The advisory lock key: the first 8 bytes of SHA-256("shapeshift.coordinator/driver"). */
    static final long LOCK_KEY = lockKey("shapeshift.coordinator/driver");

    private final Database db;
    private Connection connection;

    DriverLeadership(Database db) {
        this.db = db;
    }

    static long lockKey(String name) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(d, 0, 8).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Tries once; true if this coordinator now drives. Connection failures count as "not now". */
    synchronized boolean tryAcquire() {
        try {
            if (connection == null || connection.isClosed()) {
                connection = db.connect("coordinator-leader");
            }
            try (PreparedStatement ps = connection.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                ps.setLong(1, LOCK_KEY);
                try (ResultSet rs = ps.executeQuery()) {
                    boolean won = rs.next() && rs.getBoolean(1);
                    if (won) {
                        log.info("driver leadership acquired lock_key={}", LOCK_KEY);
                    }
                    return won;
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("driver leadership attempt failed error={}", e.toString());
            closeQuietly();
            return false;
        }
    }

    /** Whether the lock connection is still alive (and so the lock still ours). */
    synchronized boolean held() {
        if (connection == null) {
            return false;
        }
        try (Statement s = connection.createStatement()) {
            s.setQueryTimeout(10);
            s.execute("SELECT 1");
            return true;
        } catch (SQLException e) {
            log.warn("driver leadership connection lost sqlstate={}", e.getSQLState());
            closeQuietly();
            return false;
        }
    }

    @Override
    public synchronized void close() {
        if (connection != null) {
            log.info("driver leadership released");
        }
        closeQuietly();
    }

    private void closeQuietly() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("closing driver leader connection failed sqlstate={}", e.getSQLState());
            }
            connection = null;
        }
    }
}
