package dev.shapeshift.worker.throttle;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.Knob;
import dev.shapeshift.db.Connections;
import dev.shapeshift.db.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects the throttle's {@link Signals} for one migration, at most once per {@code refresh}
 * (1s by default), so operator settings are live: the catalog's {@code setting} rows
 * ({@code paused}, {@code max-rows-per-second}), the workers holding live leases,
 * {@code pg_stat_replication} replay lag of physical standbys, the migration's slot lag from
 * {@code pg_replication_slots}, this worker's recent lock timeouts, the sync backlog, and — when
 * their knobs are set ({@link Knob}) — others' active sessions and statement latency, the latter
 * also against its baseline from before the backfill copied.
 *
 * <p>If the signals cannot be read, the last ones are kept and a warning is logged; a database
 * that is down stops the copy anyway.
 */
public final class SignalCollector implements AutoCloseable {
    public static final String PAUSED = Knob.PAUSED.key();
    public static final String MAX_ROWS_PER_SECOND = Knob.MAX_ROWS_PER_SECOND.key();

    private static final Logger log = LoggerFactory.getLogger(SignalCollector.class);

    private final ChunkStore store;
    private final String migration;
    private final long specRateCap;
    private final Duration leaseTimeout;
    private final SyncBacklog syncBacklog;
    private final Duration refresh;
    private final Duration lockWindow;
    private final Deque<Long> lockTimeoutsAt = new ArrayDeque<>();
    private Connection connection;
    private final AppLatency latency;
    private Signals last = Signals.CALM;
    private long lastReadNanos;
    private boolean everRead;

    public SignalCollector(ChunkStore store, String migration, long specRateCap, Duration leaseTimeout,
                           SyncBacklog syncBacklog, Limits limits, Duration refresh) {
        this.store = store;
        this.migration = migration;
        this.specRateCap = specRateCap;
        this.leaseTimeout = leaseTimeout;
        this.syncBacklog = syncBacklog;
        this.refresh = refresh;
        this.lockWindow = limits.lockWindow();
        this.latency = new AppLatency(store.catalog(), migration);
    }

    /** Records a lock timeout or deadlock of this worker. */
    public synchronized void lockTimeout() {
        lockTimeoutsAt.addLast(System.nanoTime());
    }

    /** The signals, re-read if the last read is older than the refresh interval. */
    public synchronized Signals current() {
        long now = System.nanoTime();
        if (everRead && now - lastReadNanos < refresh.toNanos()) {
            return last.withLockTimeouts(recentLockTimeouts(now));
        }
        try {
            last = read().withLockTimeouts(recentLockTimeouts(now));
            everRead = true;
            lastReadNanos = now;
        } catch (SQLException | RuntimeException e) {
            log.warn("throttle signals unreadable, keeping the last ones migration={} error={}", migration, e.toString());
            closeConnection();
            lastReadNanos = now;
        }
        return last;
    }

    private Signals read() throws SQLException {
        Connection c = connection();
        Map<String, String> settings = Catalog.settings(c, migration);
        boolean paused = Boolean.parseBoolean(settings.getOrDefault(PAUSED, "false").trim());
        long cap = specRateCap;
        String capText = settings.get(MAX_ROWS_PER_SECOND);
        if (capText != null) {
            try {
                cap = Long.parseLong(capText.trim());
            } catch (NumberFormatException e) {
                log.warn("ignoring setting {}={} (not a whole number) migration={}", MAX_ROWS_PER_SECOND, capText, migration);
            }
        }
        int workers = store.liveOwners(c, migration, leaseTimeout);
        long maxBackends = Knob.MAX_ACTIVE_BACKENDS.whole(settings, 0);
        long maxLatency = Knob.MAX_APP_LATENCY_MS.whole(settings, 0);
        long maxPct = Knob.MAX_APP_LATENCY_PCT.whole(settings, 0);
        AppLatency.Look look = latency.look(c, maxLatency, maxPct, settings);
        Signals.Load load = new Signals.Load(maxBackends, maxBackends > 0 ? activeBackends(c) : null,
                maxLatency, look.perLook(), look.cap());
        return new Signals(paused, cap, workers, replayLag(c), slotLag(c), 0, syncBacklog.pendingChanges(), load);
    }

    /**
     * Sessions of others running a statement now: client backends in state {@code active}, except
     * this one and Shapeshift's own (every Shapeshift session carries {@code shapeshift-*} in its
     * start-up packet; the bridge's Debezium sessions name themselves {@code Debezium …}).
     */
    static int activeBackends(Connection c) throws SQLException {
        return Sql.one(c, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                + "'client backend' AND state = 'active' AND pid <> pg_backend_pid() AND application_name NOT LIKE "
                + "'shapeshift%' AND application_name NOT LIKE 'Debezium%'", rs -> rs.getInt(1));
    }

    static void rollbackQuietly(Connection c) {
        try {
            if (!c.getAutoCommit()) {
                c.rollback();
            }
        } catch (SQLException e) {
            log.debug("rollback after an unreadable signal failed sqlstate={}", e.getSQLState());
        }
    }

    private static Duration replayLag(Connection c) throws SQLException {
        // Physical standbys only: a logical walsender (our own cdc-bridge's Debezium stream
        // among them) reports as replay_lag the time until its last flush feedback, which on
        // an idle table is about the heartbeat interval and would throttle the backfill.
        return Sql.one(c, "SELECT extract(epoch FROM max(r.replay_lag)) FROM pg_stat_replication r "
                + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots s "
                + "WHERE s.active_pid = r.pid AND s.slot_type = 'logical')", rs -> {
                    double seconds = rs.getDouble(1);
                    return rs.wasNull() ? null : Duration.ofMillis((long) (seconds * 1000));
                });
    }

    /** Bytes of WAL the migration's slot holds back; null when it has no slot (or the slot has no position). */
    private Long slotLag(Connection c) throws SQLException {
        return Sql.one(c, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), "
                + "coalesce(s.confirmed_flush_lsn, s.restart_lsn))::bigint FROM pg_replication_slots s "
                + "JOIN shapeshift.migration m ON m.slot_name = s.slot_name WHERE m.name = ?", rs -> {
                    long lag = rs.getLong(1);
                    return rs.wasNull() ? null : lag;
                }, migration);
    }

    private int recentLockTimeouts(long now) {
        while (!lockTimeoutsAt.isEmpty() && now - lockTimeoutsAt.peekFirst() > lockWindow.toNanos()) {
            lockTimeoutsAt.removeFirst();
        }
        return lockTimeoutsAt.size();
    }

    private Connection connection() {
        if (connection == null) {
            connection = store.connect();
        }
        return connection;
    }

    private void closeConnection() {
        Connections.closeQuietly(connection, log, "signal connection");
        connection = null;
    }

    @Override
    public synchronized void close() {
        closeConnection();
    }
}
