package dev.shapeshift.bridge.slot;

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
 * One active bridge per slot: a session-level {@code pg_try_advisory_lock} on a dedicated
 * connection. When the leader's process dies its connection closes and PostgreSQL releases the
 * lock, so a standby's next try wins. Losing the connection means losing the lock: {@link #held}
 * checks it, and the bridge stops streaming when it fails.
 */
public final class Leadership implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Leadership.class);

    private final Database db;
    private final String slot;
    private final long lockKey;
    private Connection connection;

    public Leadership(Database db, String slot) {
        this.db = db;
        this.slot = slot;
        this.lockKey = lockKey(slot);
    }

    /** The advisory lock key: the first 8 bytes of SHA-256("shapeshift.bridge/" + slot). */
    public static long lockKey(String slot) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest(("shapeshift.bridge/" + slot).getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(d, 0, 8).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Tries once; true if this bridge now leads. Connection failures count as "not now". */
    public synchronized boolean tryAcquire() {
        try {
            if (connection == null || connection.isClosed()) {
                connection = db.connect("cdc-bridge-leader");
            }
            try (PreparedStatement ps = connection.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                ps.setLong(1, lockKey);
                try (ResultSet rs = ps.executeQuery()) {
                    boolean won = rs.next() && rs.getBoolean(1);
                    if (won) {
                        log.info("leadership acquired slot={} lock_key={}", slot, lockKey);
                    }
                    return won;
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("leadership attempt failed slot={} error={}", slot, e.toString());
            closeQuietly();
            return false;
        }
    }

    /** Whether the lock connection is still alive (and so the lock still ours). */
    public synchronized boolean held() {
        if (connection == null) {
            return false;
        }
        try (Statement s = connection.createStatement()) {
            s.setQueryTimeout(10);
            s.execute("SELECT 1");
            return true;
        } catch (SQLException e) {
            log.warn("leadership connection lost slot={} sqlstate={}", slot, e.getSQLState());
            closeQuietly();
            return false;
        }
    }

    @Override
    public synchronized void close() {
        if (connection != null) {
            log.info("leadership released slot={}", slot);
        }
        closeQuietly();
    }

    private void closeQuietly() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("closing leader connection failed sqlstate={}", e.getSQLState());
            }
            connection = null;
        }
    }
}
