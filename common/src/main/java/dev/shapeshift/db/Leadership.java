package dev.shapeshift.db;

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
 * One active instance per named role: a session-level {@code pg_try_advisory_lock} on a dedicated
 * connection to the catalog's database. When the leader's process dies its connection closes and
 * PostgreSQL releases the lock, so a standby's next try wins. Losing the connection means losing
 * the lock: {@link #held} checks it, and the leader stops leading when it fails. A leader whose own
 * work can stall behind the same partition (a watch round waiting out its own socket timeout) starts
 * {@link #checkEvery}: a daemon thread checks the lock session on its own schedule, and
 * {@link #held} answers from the latest check without blocking. Without it the leader learned of
 * the loss only after its stalled round plus a check: two timeouts, about 35 to 40 s, where one
 * (the {@link #SOCKET_TIMEOUT}) is the bound this class promises (NetworkFaultIT). The cdc-bridge
 * leads per slot ({@code shapeshift.bridge/<slot>}), the coordinator's driver per catalog
 * ({@code shapeshift.coordinator/driver}).
 */
public final class Leadership implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Leadership.class);
    /**
     * The lock session's socket timeout: a leader cut off by a silent partition (a half-open
     * connection: nothing answers, nothing is reset) learns it within this, from {@link #held}, and
     * stops leading, instead of waiting for the kernel's TCP retransmissions (about 15 minutes).
     * Its statements are instant (a lock attempt, {@code SELECT 1} with a 10 s query timeout).
     * The server keeps the lock until it notices the session is gone (at the latest when the
     * partition heals), so no standby leads meanwhile: during the partition nobody drives.
     */
    public static final java.time.Duration SOCKET_TIMEOUT = java.time.Duration.ofSeconds(20);
    /**
     * The server's side of the same: TCP keepalives on the lock session (10 s idle, then 3 probes 5 s
     * apart), so PostgreSQL ends the session of a leader that went silent, and releases its lock,
     * about 25 s after the last packet: later than the leader's own {@link #SOCKET_TIMEOUT} (it has
     * stopped leading by then), and not the operating system's default of two hours (after which a
     * standby would wait that long for a lock nobody uses).
     */
    static final String SERVER_KEEPALIVES = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 "
            + "-c tcp_keepalives_count=3";

    private final Database db;
    private final String name;
    private final String connectionRole;
    private final long lockKey;
    private Connection connection;
    private volatile String lastLoss;
    /** Set while this instance holds the lock, cleared on a failed check; what {@link #held} answers under {@link #checkEvery}. */
    private volatile boolean holding;
    private volatile Thread checker;
    private volatile boolean closed;

    /**
     * @param name           what is led, e.g. {@code shapeshift.bridge/<slot>}; the lock key derives from it
     * @param connectionRole the lock connection's role in {@code application_name} ({@link Database#connect(String)})
     */
    public Leadership(Database db, String name, String connectionRole) {
        this.db = db;
        this.name = name;
        this.connectionRole = connectionRole;
        this.lockKey = lockKey(name);
    }

    /** The advisory lock key: the first 8 bytes of SHA-256(name). */
    public static long lockKey(String name) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(d, 0, 8).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Tries once; true if this instance now leads. Connection failures count as "not now". */
    public synchronized boolean tryAcquire() {
        try {
            if (connection == null || connection.isClosed()) {
                connection = connect(db, connectionRole);
            }
            try (PreparedStatement ps = connection.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                ps.setLong(1, lockKey);
                try (ResultSet rs = ps.executeQuery()) {
                    boolean won = rs.next() && rs.getBoolean(1);
                    if (won) {
                        holding = true;
                        log.info("leadership acquired name={} lock_key={}", name, lockKey);
                    }
                    return won;
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("leadership attempt failed name={} error={}", name, e.toString());
            closeQuietly();
            return false;
        }
    }

    /** A lock session: the client's socket timeout and the server's keepalives. */
    static Connection connect(Database db, String role) {
        return db.connectWithSocketTimeout(role, SOCKET_TIMEOUT, SERVER_KEEPALIVES);
    }

    /**
     * Checks the lock session every {@code interval} on a daemon thread from now until {@link #close};
     * {@link #held} then answers from the latest check and never blocks. Idempotent.
     */
    public synchronized void checkEvery(java.time.Duration interval) {
        checkEvery(interval, () -> { });
    }

    /**
     * Like {@link #checkEvery(java.time.Duration)}; {@code onLoss} runs on the check thread when a
     * check finds the lock lost, so a leader whose own thread is stuck (waiting out a timeout) can
     * say at once that it no longer leads.
     */
    public synchronized void checkEvery(java.time.Duration interval, Runnable onLoss) {
        if (checker != null) {
            return;
        }
        Thread t = new Thread(() -> {
            while (!closed) {
                try {
                    Thread.sleep(interval.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
                if (holding && !closed && !check() && !closed) {
                    try {
                        onLoss.run();
                    } catch (RuntimeException e) {
                        log.warn("leadership loss handler failed name={} error={}", name, e.toString());
                    }
                }
            }
        }, "leadership-check-" + name);
        t.setDaemon(true);
        checker = t;
        t.start();
    }

    /**
     * Whether the lock connection is still alive (and so the lock still ours): a {@code SELECT 1} on
     * it, or under {@link #checkEvery} the latest check's answer.
     */
    public boolean held() {
        if (checker != null) {
            return holding;
        }
        return check();
    }

    private synchronized boolean check() {
        if (connection == null) {
            holding = false;
            return false;
        }
        try (Statement s = connection.createStatement()) {
            s.setQueryTimeout(10);
            s.execute("SELECT 1");
            return true;
        } catch (SQLException e) {
            lastLoss = "lock connection lost (" + e.getSQLState() + ": " + e.getMessage() + ")";
            holding = false;
            log.warn("leadership connection lost name={} sqlstate={}", name, e.getSQLState());
            closeQuietly();
            return false;
        }
    }

    /** Why {@link #held} last answered false (the lock connection's error), or null. */
    public String lastLoss() {
        return lastLoss;
    }

    @Override
    public void close() {
        closed = true;
        holding = false;
        Thread t = checker;
        if (t != null) {
            t.interrupt();
        }
        release();
    }

    private synchronized void release() {
        if (connection != null) {
            log.info("leadership released name={}", name);
        }
        closeQuietly();
    }

    private void closeQuietly() {
        Connections.closeQuietly(connection, log, "leader connection");
        connection = null;
    }
}
