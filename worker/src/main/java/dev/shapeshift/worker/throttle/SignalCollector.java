package dev.shapeshift.worker.throttle;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.Knob;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
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
    /** How long the % cap's baseline is measured, with no worker copying. */
    static final Duration BASELINE_WINDOW = Duration.ofSeconds(5);
    /** The window the % cap averages the application's statement time over. */
    static final Duration CAP_WINDOW = Duration.ofSeconds(10);

    private final ChunkStore store;
    private final String migration;
    private final long specRateCap;
    private final Duration leaseTimeout;
    private final SyncBacklog syncBacklog;
    private final Duration refresh;
    private final Duration lockWindow;
    private final Deque<Long> lockTimeoutsAt = new ArrayDeque<>();
    private Connection connection;
    private Signals last = Signals.CALM;
    private long lastReadNanos;
    private boolean everRead;
    /** Totals of others' statements at the previous look (pg_stat_statements): calls, ms. */
    private double[] appTotals;
    private String appLatencyProblem;
    /** Looks at others' statements for the % cap's window: nanoTime, calls, ms. */
    private final Deque<double[]> capSamples = new ArrayDeque<>();
    /** The look the baseline is measured from; null when not measuring. */
    private double[] baselineFrom;
    /** A measured baseline the catalog would not store (kept for this worker only), µs; 0 = none. */
    private long unstoredBaselineUs;

    public SignalCollector(ChunkStore store, String migration, long specRateCap, Duration leaseTimeout,
                           SyncBacklog syncBacklog, Limits limits, Duration refresh) {
        this.store = store;
        this.migration = migration;
        this.specRateCap = specRateCap;
        this.leaseTimeout = leaseTimeout;
        this.syncBacklog = syncBacklog;
        this.refresh = refresh;
        this.lockWindow = limits.lockWindow();
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
        double[] totals = maxLatency > 0 || maxPct > 0 ? appTotals(c) : null;
        Double perLook = maxLatency > 0 ? sinceLastLook(totals) : null;
        appTotals = totals;
        Signals.LatencyCap latencyCap = maxPct > 0 ? latencyCap(maxPct, settings, totals) : Signals.LatencyCap.OFF;
        if (maxPct == 0) {
            capSamples.clear();
            baselineFrom = null;
        }
        Signals.Load load = new Signals.Load(maxBackends, maxBackends > 0 ? activeBackends(c) : null,
                maxLatency, perLook, latencyCap);
        return new Signals(paused, cap, workers, replayLag(c), slotLag(c), 0, syncBacklog.pendingChanges(), load);
    }

    /**
     * Sessions of others running a statement now: client backends in state {@code active}, except
     * this one and Shapeshift's own (every Shapeshift session carries {@code shapeshift-*} in its
     * start-up packet; the bridge's Debezium sessions name themselves {@code Debezium …}).
     */
    static int activeBackends(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                + "'client backend' AND state = 'active' AND pid <> pg_backend_pid() AND application_name NOT LIKE "
                + "'shapeshift%' AND application_name NOT LIKE 'Debezium%'");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * Totals of the statements of roles other than Shapeshift's, from {@code pg_stat_statements}
     * (this database): the look's nanoTime, calls, total execution ms. Shapeshift's roles: this
     * session's, and any role that may update {@code shapeshift.migration} (the coordinator's, the
     * workers', the bridge's; a superuser counts as one — run the application under its own role).
     * Null when the view cannot be read (logged once).
     */
    private double[] appTotals(Connection c) {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(s.calls), 0)::float8, "
                + "coalesce(sum(s.total_exec_time), 0)::float8 FROM pg_stat_statements s "
                + "JOIN pg_roles r ON r.oid = s.userid WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = "
                + "current_database()) AND r.rolname <> current_user AND NOT r.rolsuper "
                + "AND NOT has_table_privilege(r.oid, 'shapeshift.migration', 'UPDATE')");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            double[] now = {System.nanoTime(), rs.getDouble(1), rs.getDouble(2)};
            appLatencyProblem = null;
            return now;
        } catch (SQLException e) {
            if (appLatencyProblem == null) {
                log.warn("max-app-latency-ms or max-app-latency-pct is set but pg_stat_statements cannot be read, "
                        + "the knob has no effect migration={} error={}", migration, e.getMessage());
            }
            appLatencyProblem = e.getMessage();
            rollbackQuietly(c);
            return null;
        }
    }

    /**
     * Mean milliseconds per statement of others since the previous look. Null at the first look,
     * when no statement of others finished since, or when the view cannot be read.
     */
    private Double sinceLastLook(double[] now) {
        return meanMs(appTotals, now);
    }

    /** Mean ms per statement between two looks; null without a finished statement between them (or a reset). */
    private static Double meanMs(double[] before, double[] now) {
        if (before == null || now == null || now[1] < before[1] || now[1] - before[1] < 1) {
            return null;
        }
        return (now[2] - before[2]) / (now[1] - before[1]);
    }

    /**
     * The % cap's signals. The baseline is the knob {@code app-latency-baseline-us} when set; else
     * it is measured here over {@link #BASELINE_WINDOW} from the first look with the cap on —
     * every worker waits while it has no baseline, so no worker copies in that time — and stored
     * in the catalog for every worker (audited). The latency compared with it is the mean over the
     * last {@link #CAP_WINDOW}, so the time the backfill waits counts as well as the time it
     * copies: the cap holds the application's mean over the run, not only at its quietest second.
     */
    private Signals.LatencyCap latencyCap(long maxPct, Map<String, String> settings, double[] now) {
        if (now == null) {
            return new Signals.LatencyCap(maxPct, null, false, null);
        }
        if (!capSamples.isEmpty() && now[1] < capSamples.peekLast()[1]) {
            capSamples.clear(); // pg_stat_statements was reset
        }
        capSamples.addLast(now);
        while (capSamples.size() > 1 && now[0] - capSamples.peekFirst()[0] > CAP_WINDOW.toNanos()) {
            capSamples.removeFirst();
        }
        Double window = meanMs(capSamples.peekFirst(), now);
        long baselineUs = Knob.APP_LATENCY_BASELINE_US.whole(settings, 0);
        if (baselineUs <= 0) {
            baselineUs = unstoredBaselineUs;
        }
        if (baselineUs > 0) {
            baselineFrom = null;
            return new Signals.LatencyCap(maxPct, baselineUs / 1000.0, false, window);
        }
        if (baselineFrom == null || now[1] < baselineFrom[1]) {
            baselineFrom = now;
        }
        Double measured = meanMs(baselineFrom, now);
        double seconds = (now[0] - baselineFrom[0]) / 1e9;
        if (measured == null || seconds < BASELINE_WINDOW.toNanos() / 1e9) {
            return new Signals.LatencyCap(maxPct, null, true, null);
        }
        long us = Math.max(1, Math.round(measured * 1000));
        String why = String.format(Locale.ROOT, "measured before the backfill copied: %.0f statements of the application "
                + "in %.1f s, %.3f ms each", now[1] - baselineFrom[1], seconds, measured);
        try {
            store.catalog().putSetting(migration, Knob.APP_LATENCY_BASELINE_US.key(), Long.toString(us), "shapeshift-worker",
                    why);
        } catch (RuntimeException e) {
            log.warn("could not store the measured {}={}, this worker keeps it migration={} error={}",
                    Knob.APP_LATENCY_BASELINE_US.key(), us, migration, e.toString());
            unstoredBaselineUs = us;
        }
        log.info("application statement baseline {}={} ({}) migration={}", Knob.APP_LATENCY_BASELINE_US.key(), us, why,
                migration);
        baselineFrom = null;
        return new Signals.LatencyCap(maxPct, us / 1000.0, false, window);
    }

    private static void rollbackQuietly(Connection c) {
        try {
            if (!c.getAutoCommit()) {
                c.rollback();
            }
        } catch (SQLException e) {
            log.debug("rollback after an unreadable signal failed sqlstate={}", e.getSQLState());
        }
    }

    private static Duration replayLag(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                // Physical standbys only: a logical walsender (our own cdc-bridge's Debezium stream
                // among them) reports as replay_lag the time until its last flush feedback, which on
                // an idle table is about the heartbeat interval and would throttle the backfill.
                "SELECT extract(epoch FROM max(r.replay_lag)) FROM pg_stat_replication r "
                        + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots s "
                        + "WHERE s.active_pid = r.pid AND s.slot_type = 'logical')");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            double seconds = rs.getDouble(1);
            return rs.wasNull() ? null : Duration.ofMillis((long) (seconds * 1000));
        }
    }

    private Long slotLag(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), "
                + "coalesce(s.confirmed_flush_lsn, s.restart_lsn))::bigint FROM pg_replication_slots s "
                + "JOIN shapeshift.migration m ON m.slot_name = s.slot_name WHERE m.name = ?")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long lag = rs.getLong(1);
                return rs.wasNull() ? null : lag;
            }
        }
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
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("closing signal connection failed sqlstate={}", e.getSQLState());
            }
            connection = null;
        }
    }

    @Override
    public synchronized void close() {
        closeConnection();
    }
}
