package dev.shapeshift.coordinator.status;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.db.Sql;
import dev.shapeshift.db.SqlStates;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard's history, kept in {@code shapeshift.status_history} (catalog V13): the status loop
 * {@link #record records} one sample per active migration at most every {@link #EVERY} and prunes
 * samples older than {@link #KEEP}; {@link #read} serves a window of them, thinned to at most
 * {@link #MAX_POINTS}, as columns ready for a chart. Several coordinators may record at once: the
 * insert skips a migration sampled less than {@link #EVERY} ago, so the rows are not doubled (two
 * inserts in the same instant may still both land; the chart does not mind).
 */
public final class History {
    private static final Logger log = LoggerFactory.getLogger(History.class);
    public static final Duration EVERY = Duration.ofSeconds(10);
    public static final Duration KEEP = Duration.ofDays(3);
    public static final int MAX_POINTS = 720;
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(1);

    private final Catalog catalog;
    private final Duration every;
    private volatile Instant lastPrune = Instant.EPOCH;

    public History(Catalog catalog) {
        this(catalog, EVERY);
    }

    /** @param every the least time between two samples of one migration (tests sample faster) */
    public History(Catalog catalog, Duration every) {
        this.catalog = catalog;
        this.every = every;
    }

    /** One sample per migration that is still active (terminal ones keep their last samples until pruned). */
    public void record(List<MigrationStatus> statuses) {
        try (Connection c = catalog.connect()) {
            for (MigrationStatus s : statuses) {
                if (!s.phase().terminal() || !sampledSince(c, s.name(), s.phaseChangedAt())) {
                    insert(c, s);
                }
            }
            Instant now = Instant.now();
            if (Duration.between(lastPrune, now).compareTo(PRUNE_EVERY) >= 0) {
                lastPrune = now;
                prune(c, KEEP);
            }
        } catch (SQLException e) {
            throw SqlStates.translate("recording the status history", e);
        }
    }

    private void insert(Connection c, MigrationStatus s) throws SQLException {
        long running = s.sync().streams() == null ? 0
                : s.sync().streams().stream().filter(t -> !t.state().stopped()).count();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.status_history (migration, phase, "
                + "drift_open, drift_found, drift_repaired, sync_lag_seconds, slot_lag_bytes, rows_copied, rows_per_second, "
                + "chunks_done, chunks_total, streams_running, streams_stopped, heartbeat_age_seconds) "
                + "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM shapeshift.status_history "
                + "WHERE migration = ? AND at > now() - make_interval(secs => ?)) ON CONFLICT DO NOTHING")) {
            int i = 1;
            ps.setString(i++, s.name());
            ps.setString(i++, s.phase().label());
            ps.setLong(i++, s.drift().openTotal());
            ps.setLong(i++, s.drift().openTotal() + s.drift().resolved());
            ps.setLong(i++, s.drift().resolved());
            setDouble(ps, i++, s.sync().lagSeconds());
            if (s.sync().lagBytes() == null) {
                ps.setNull(i++, Types.BIGINT);
            } else {
                ps.setLong(i++, s.sync().lagBytes());
            }
            ps.setLong(i++, s.progress().rowsCopied());
            ps.setDouble(i++, s.progress().rowsPerSecond());
            ps.setInt(i++, s.progress().chunksDone());
            ps.setInt(i++, s.progress().chunks());
            ps.setInt(i++, (int) running);
            ps.setInt(i++, (int) s.sync().stopped());
            setDouble(ps, i++, s.sync().heartbeatAgeSeconds());
            ps.setString(i++, s.name());
            ps.setDouble(i, every.toMillis() / 1000.0 * 0.9);
            ps.executeUpdate();
        }
    }

    private static boolean sampledSince(Connection c, String migration, Instant since) throws SQLException {
        return Sql.one(c, "SELECT EXISTS (SELECT 1 FROM shapeshift.status_history "
                + "WHERE migration = ? AND at >= ?)", rs -> rs.getBoolean(1),
                migration, since == null ? new Timestamp(0) : Timestamp.from(since));
    }

    /** Deletes samples older than {@code keep}; returns how many. */
    static int prune(Connection c, Duration keep) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "DELETE FROM shapeshift.status_history WHERE at < now() - make_interval(secs => ?)")) {
            ps.setDouble(1, keep.toSeconds());
            int n = ps.executeUpdate();
            if (n > 0) {
                log.debug("status history pruned rows={} keep={}", n, keep);
            }
            return n;
        }
    }

    /** The series of one migration over the last {@code window}, as parallel columns (epoch seconds in {@code at}). */
    /** {@link #health(Connection, MigrationRecord)} on a connection of its own. */
    public static Map<String, Object> health(Catalog catalog, MigrationRecord m) {
        try (Connection c = catalog.connect()) {
            return health(c, m);
        } catch (SQLException e) {
            throw SqlStates.translate("reading the bridge and worker health of " + m.name(), e);
        }
    }

    public Map<String, Object> read(MigrationRecord m, Duration window) {
        Map<String, List<Object>> cols = new LinkedHashMap<>();
        for (String k : List.of("at", "phase", "driftOpen", "driftFound", "driftRepaired", "syncLagSeconds",
                "slotLagBytes", "rowsCopied", "rowsPerSecond", "chunksDone", "chunksTotal", "streamsRunning",
                "streamsStopped", "heartbeatAgeSeconds")) {
            cols.put(k, new ArrayList<>());
        }
        try (Connection c = catalog.connect();
             PreparedStatement ps = c.prepareStatement("WITH w AS (SELECT *, row_number() OVER (ORDER BY at DESC) AS rn, "
                     + "count(*) OVER () AS n FROM shapeshift.status_history WHERE migration = ? "
                     + "AND at > now() - make_interval(secs => ?)) "
                     + "SELECT extract(epoch FROM at), phase, drift_open, drift_found, drift_repaired, sync_lag_seconds, "
                     + "slot_lag_bytes, rows_copied, rows_per_second, chunks_done, chunks_total, streams_running, "
                     + "streams_stopped, heartbeat_age_seconds FROM w "
                     + "WHERE (rn - 1) % greatest(1, ceil(n::numeric / ?)::int) = 0 ORDER BY at")) {
            ps.setString(1, m.name());
            ps.setDouble(2, window.toSeconds());
            ps.setInt(3, MAX_POINTS);
            try (ResultSet rs = ps.executeQuery()) {
                List<List<Object>> list = new ArrayList<>(cols.values());
                while (rs.next()) {
                    for (int i = 0; i < list.size(); i++) {
                        Object v = rs.getObject(i + 1);
                        list.get(i).add(v instanceof java.math.BigDecimal d ? d.doubleValue() : v);
                    }
                }
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("migration", m.name());
            body.put("windowSeconds", window.toSeconds());
            body.put("everySeconds", every.toSeconds());
            body.put("series", cols);
            body.put("health", health(c, m));
            return body;
        } catch (SQLException e) {
            throw SqlStates.translate("reading the status history of " + m.name(), e);
        }
    }

    /**
     * Who does the work now: the bridge session holding the slot's leader lock (from
     * {@code pg_locks}), the bridge sessions connected, and each worker's latest sign of life
     * (chunk heartbeat, sync stream update) with the states of the streams it owns.
     */
    public static Map<String, Object> health(Connection c, MigrationRecord m) throws SQLException {
        Map<String, Object> bridge = new LinkedHashMap<>();
        bridge.put("slot", m.slotName());
        bridge.put("leader", null);
        if (m.slotName() != null) {
            long key = dev.shapeshift.db.Leadership.lockKey("shapeshift.bridge/" + m.slotName());
            try (PreparedStatement ps = c.prepareStatement("SELECT a.pid, a.application_name, host(a.client_addr), "
                    + "a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    + "AND l.granted AND l.objsubid = 1 AND l.classid::text::bigint = ? AND l.objid::text::bigint = ? "
                    + "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")) {
                ps.setLong(1, key >>> 32);
                ps.setLong(2, key & 0xffffffffL);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        Map<String, Object> leader = new LinkedHashMap<>();
                        leader.put("pid", rs.getInt(1));
                        leader.put("session", rs.getString(2));
                        leader.put("client", rs.getString(3) == null ? "local socket" : rs.getString(3));
                        leader.put("sessionStart", rs.getTimestamp(4).toInstant());
                        bridge.put("leader", leader);
                    }
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity "
                + "WHERE application_name = 'shapeshift-cdc-bridge-leader' AND datname = current_database()")) {
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                bridge.put("bridgeSessions", rs.getInt(1));
            }
        }
        List<Map<String, Object>> workers = new ArrayList<>();
        Sql.each(c, "SELECT owner, max(seen), sum(chunks), "
                + "string_agg(stream, ', ' ORDER BY stream) FROM ("
                + "SELECT owner, heartbeat_at AS seen, 1 AS chunks, NULL AS stream FROM shapeshift.chunk "
                + "WHERE migration = ? AND status = 'running' AND owner IS NOT NULL "
                + "UNION ALL SELECT owner, updated_at, 0, 'p' || partition || ' ' || state FROM shapeshift.sync_stream "
                + "WHERE migration = ?) x GROUP BY owner ORDER BY owner", rs -> {
                Map<String, Object> w = new LinkedHashMap<>();
                w.put("worker", rs.getString(1));
                Timestamp seen = rs.getTimestamp(2);
                w.put("lastSeen", seen == null ? null : seen.toInstant());
                w.put("chunksRunning", rs.getLong(3));
                w.put("streams", rs.getString(4));
                workers.add(w);
            }, m.name(), m.name());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("bridge", bridge);
        out.put("workers", workers);
        return out;
    }

    private static void setDouble(PreparedStatement ps, int i, Double v) throws SQLException {
        if (v == null || v.isNaN()) {
            ps.setNull(i, Types.DOUBLE);
        } else {
            ps.setDouble(i, v);
        }
    }
}
