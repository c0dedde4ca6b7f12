package dev.shapeshift.coordinator.reconcile;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.DriftStore.Kind;
import dev.shapeshift.coordinator.reconcile.Differ.Difference;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A reconcile run's durable state: {@code shapeshift.reconcile_run} (status, checkpoint, counters)
 * and {@code shapeshift.reconcile_suspect} (keys that differed and wait for their re-check).
 * Methods taking a {@link Connection} run in the caller's transaction, so a range's checkpoint
 * commits with its suspects.
 */
public final class RunStore {
    private static final String RUN_COLUMNS = "id, migration, status, started_at, finished_at, last_key::text, "
            + "ranges_done, rows_checked, drift_found, estimated_rows, keys_rechecked, transient, message, heartbeat_at";

    /** One row of {@code shapeshift.reconcile_run}. {@code lastKey}: every range up to it is compared. */
    public record Run(long id, String migration, String status, Instant startedAt, Instant finishedAt, Key lastKey,
                      long rangesDone, long rowsChecked, long driftFound, long estimatedRows, long keysRechecked,
                      long transientKeys, String message, Instant heartbeatAt) {
        public boolean finished() {
            return "done".equals(status);
        }

        public Progress progress(Instant now) {
            Instant end = finishedAt != null ? finishedAt : now;
            return new Progress(rowsChecked, estimatedRows, finished(), Duration.between(startedAt, end));
        }
    }

    /** A key waiting for its re-check. */
    record Suspect(Key key, Kind kind, String checkLsn, String sourceXmin, int rounds) {
    }

    private final Catalog catalog;

    public RunStore(Catalog catalog) {
        this.catalog = catalog;
    }

    /** The latest run of the migration, if any. */
    public Optional<Run> latest(String migration) {
        return catalog.inTransaction("reading reconcile runs of " + migration, c -> latest(c, migration));
    }

    /**
     * Continues the latest run if it did not finish (stopped, or still marked running after a crash),
     * else starts a new one. Serialised on the migration row, so two callers never start two runs.
     */
    Run startOrResume(Connection c, String migration, long estimatedRows) throws SQLException {
        if (!Sql.exists(c, "SELECT 1 FROM shapeshift.migration WHERE name = ? FOR UPDATE", migration)) {
            throw new ShapeshiftException(ErrorCode.NOT_FOUND, "no migration named '" + migration + "'");
        }
        Optional<Run> last = latest(c, migration);
        if (last.isPresent() && (last.get().status().equals("running") || last.get().status().equals("stopped"))) {
            Sql.update(c, "UPDATE shapeshift.reconcile_run SET status = 'running', "
                    + "heartbeat_at = now(), message = NULL, estimated_rows = greatest(estimated_rows, ?) WHERE id = ?",
                    estimatedRows, last.get().id());
            return byId(c, last.get().id());
        }
        return byId(c, Sql.one(c, "INSERT INTO shapeshift.reconcile_run (migration, estimated_rows, "
                + "heartbeat_at) VALUES (?, ?, now()) RETURNING id", rs -> rs.getLong(1), migration, estimatedRows));
    }

    /** One range compared: moves the checkpoint (null {@code lastKey}: the open last range) and the counters. */
    void rangeDone(Connection c, long runId, Key lastKey, long rows) throws SQLException {
        Sql.update(c, "UPDATE shapeshift.reconcile_run SET last_key = coalesce(?::jsonb, last_key), "
                + "ranges_done = ranges_done + 1, rows_checked = rows_checked + ?, heartbeat_at = now() WHERE id = ?",
                lastKey == null ? null : ChunkStore.json(lastKey), rows, runId);
    }

    void recheckCounted(Connection c, long runId, long rechecked, long transientKeys, long drift) throws SQLException {
        Sql.update(c, "UPDATE shapeshift.reconcile_run SET keys_rechecked = "
                + "keys_rechecked + ?, transient = transient + ?, drift_found = drift_found + ?, heartbeat_at = now() "
                + "WHERE id = ?", rechecked, transientKeys, drift, runId);
    }

    Run finish(Connection c, long runId, String status, String message) throws SQLException {
        Sql.update(c, "UPDATE shapeshift.reconcile_run SET status = ?, message = ?, "
                + "finished_at = CASE WHEN ? IN ('done', 'failed') THEN now() END, heartbeat_at = now() WHERE id = ?",
                status, message, status, runId);
        return byId(c, runId);
    }

    /**
     * Lets the current transaction commit without waiting for its WAL flush
     * ({@code synchronous_commit = off}, this transaction only). For range checkpoints, whose loss
     * in a server crash is repaired by comparing the ranges again; never for a run's verdict.
     */
    static void commitWithoutFlushWait(Connection c) throws SQLException {
        try (var s = c.createStatement()) {
            s.execute("SET LOCAL synchronous_commit = off");
        }
    }

    /** Adds (or refreshes) suspects found by one check; a key already waiting starts its wait again. */
    void addSuspects(Connection c, String migration, long runId, List<Difference> found, String lsn, boolean nextRound)
            throws SQLException {
        if (found.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.reconcile_suspect (migration, key, kind, "
                + "run_id, check_lsn, source_xmin) VALUES (?, ?::jsonb, ?, ?, ?::pg_lsn, ?) ON CONFLICT (migration, key) "
                + "DO UPDATE SET kind = EXCLUDED.kind, run_id = EXCLUDED.run_id, check_lsn = EXCLUDED.check_lsn, "
                + "source_xmin = EXCLUDED.source_xmin, checked_at = now(), "
                + "rounds = CASE WHEN ? THEN reconcile_suspect.rounds + 1 ELSE 1 END")) {
            for (Difference d : found) {
                ps.setString(1, migration);
                ps.setString(2, ChunkStore.json(d.key()));
                ps.setString(3, d.kind().label());
                ps.setLong(4, runId);
                ps.setString(5, lsn);
                ps.setString(6, d.sourceXmin());
                ps.setBoolean(7, nextRound);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Up to {@code limit} suspects checked at least {@code recheckAfter} ago, oldest first. */
    List<Suspect> due(Connection c, String migration, Duration recheckAfter, int limit) throws SQLException {
        return Sql.list(c, "SELECT key::text, kind, check_lsn::text, source_xmin, rounds "
                + "FROM shapeshift.reconcile_suspect WHERE migration = ? AND checked_at <= now() - make_interval(secs => ?) "
                + "ORDER BY checked_at, key LIMIT ?", rs -> new Suspect(ChunkStore.key(rs.getString(1)),
                        Kind.fromLabel(rs.getString(2)), rs.getString(3), rs.getString(4), rs.getInt(5)),
                migration, recheckAfter.toMillis() / 1000.0, limit);
    }

    void removeSuspects(Connection c, String migration, List<Key> keys) throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        Sql.update(c, "DELETE FROM shapeshift.reconcile_suspect WHERE migration = ? "
                + "AND key IN (SELECT k::jsonb FROM unnest(?::text[]) k)",
                migration, c.createArrayOf("text", keys.stream().map(ChunkStore::json).toArray()));
    }

    long suspectCount(Connection c, String migration) throws SQLException {
        return Sql.one(c, "SELECT count(*) FROM shapeshift.reconcile_suspect WHERE migration = ?",
                rs -> rs.getLong(1), migration);
    }

    private static Optional<Run> latest(Connection c, String migration) throws SQLException {
        return Optional.ofNullable(Sql.one(c, "SELECT " + RUN_COLUMNS
                + " FROM shapeshift.reconcile_run WHERE migration = ? ORDER BY id DESC LIMIT 1", RunStore::run, migration));
    }

    private static Run byId(Connection c, long id) throws SQLException {
        return Sql.one(c, "SELECT " + RUN_COLUMNS + " FROM shapeshift.reconcile_run WHERE id = ?", RunStore::run, id);
    }

    private static Run run(ResultSet rs) throws SQLException {
        return new Run(rs.getLong(1), rs.getString(2), rs.getString(3), instant(rs.getTimestamp(4)),
                instant(rs.getTimestamp(5)), ChunkStore.key(rs.getString(6)), rs.getLong(7), rs.getLong(8),
                rs.getLong(9), rs.getLong(10), rs.getLong(11), rs.getLong(12), rs.getString(13),
                instant(rs.getTimestamp(14)));
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }

}
