package dev.shapeshift.coordinator.drive;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.db.Sql;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.Structure;
import dev.shapeshift.phase.Phase;
import java.util.List;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;

/** Reads a migration's {@link Snapshot} from the catalog tables, in one short read. */
final class SnapshotReader {
    /** The audit action that records the driver's clean-up after the contract. */
    static final String CLEANUP_ACTION = Step.CLEANUP_ACTION;
    /** The audit action of a stalled backfill's republished chunk tasks (counts as progress). */
    public static final String REPUBLISH_ACTION = "backfill tasks republished";

    private final Catalog catalog;

    SnapshotReader(Catalog catalog) {
        this.catalog = catalog;
    }

    Snapshot read(MigrationRecord m) {
        MigrationSpec spec = SpecJson.read(m.specJson());
        try (Connection c = catalog.connect()) {
            return read(c, m, spec);
        } catch (SQLException e) {
            throw SqlStates.translate("reading the state of migration " + m.name(), e);
        }
    }

    private Snapshot read(Connection c, MigrationRecord m, MigrationSpec spec) throws SQLException {
        String name = m.name();
        int chunks;
        int done;
        Instant finished;
        Instant progress;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*), count(*) FILTER (WHERE status = 'done'), "
                + "max(finished_at), greatest(max(heartbeat_at), max(started_at), max(finished_at), "
                + "(SELECT max(at) FROM shapeshift.audit WHERE migration = ? AND action = '" + REPUBLISH_ACTION + "')) "
                + "FROM shapeshift.chunk WHERE migration = ?")) {
            ps.setString(1, name);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                chunks = rs.getInt(1);
                done = rs.getInt(2);
                finished = chunks > 0 && done == chunks ? instant(rs.getTimestamp(3)) : null;
                progress = instant(rs.getTimestamp(4));
            }
        }
        String chunkError = one(c, "SELECT error FROM shapeshift.chunk WHERE migration = ? AND error IS NOT NULL "
                + "ORDER BY coalesce(heartbeat_at, started_at) DESC NULLS LAST LIMIT 1", name);
        boolean paused = "true".equals(one(c, "SELECT value FROM shapeshift.setting WHERE migration = ? "
                + "AND name = 'paused'", name));
        Snapshot.Run latest = run(c, name, "");
        Snapshot.Run latestDone = run(c, name, "AND status = 'done' AND finished_at IS NOT NULL ");
        long openDrift = Long.parseLong(one(c, "SELECT count(*)::text FROM shapeshift.drift WHERE migration = ? "
                + "AND resolved_at IS NULL", name));
        boolean cleanedUp = one(c, "SELECT 'yes' FROM shapeshift.audit WHERE migration = ? AND action = '"
                + CLEANUP_ACTION + "' LIMIT 1", name) != null;
        Instant now = Sql.one(c, "SELECT clock_timestamp()", rs -> rs.getTimestamp(1).toInstant());
        String table = spec.source() == null ? "?" : spec.source().schema() + "." + spec.source().table();
        List<String> pending = Structure.items(spec).isEmpty() || m.phase().compareTo(Phase.BACKFILLED) < 0
                ? List.of() : Structure.pending(c, spec);
        Findings f = Sql.one(c, "SELECT count(*), max(found_at) FROM shapeshift.finding WHERE migration = ?",
                rs -> new Findings(rs.getLong(1), instant(rs.getTimestamp(2))), name);
        return new Snapshot(name, m.phase(), m.phaseChangedAt(), m.message(), table, m.startLsn(),
                spec.readSwitch().approval(), spec.readSwitch().revertOnDrift(), spec.contract().approval(),
                spec.reconcile().interval(), chunks, done, finished, progress, chunkError, paused, latest, latestDone,
                openDrift, cleanedUp, now, pending, f.count(), f.latestAt(), brownout(c, name, spec),
                dev.shapeshift.phase.PhasePlan.of(spec.writes()),
                spec.writes().switchWrites() ? dev.shapeshift.refresh.SyncDirection.read(c, name) : null,
                spec.writes().switchWrites() ? dev.shapeshift.coordinator.writes.WriteSwitch.state(c, name).relaxed()
                        : java.util.List.of(),
                one(c, "SELECT 'yes' FROM shapeshift.audit r WHERE r.migration = ? AND r.action = '"
                        + dev.shapeshift.catalog.ChunkStore.RETRY_ACTION + "' AND r.at > coalesce((SELECT max(p.at) "
                        + "FROM shapeshift.audit p WHERE p.migration = r.migration AND p.action = '" + REPUBLISH_ACTION
                        + "'), '-infinity') LIMIT 1", name) != null,
                finished == null || one(c, "SELECT 'yes' FROM shapeshift.audit a WHERE a.migration = ? AND a.action = '"
                        + Step.INDEX_ACTION + "' AND a.at >= (SELECT max(k.finished_at) FROM shapeshift.chunk k "
                        + "WHERE k.migration = a.migration) LIMIT 1", name) != null);
    }

    /** The stored findings of a migration: how many, and when the latest was stored (null when none). */
    private record Findings(long count, Instant latestAt) {
    }

    private static Snapshot.BrownoutState brownout(Connection c, String migration, MigrationSpec spec) throws SQLException {
        dev.shapeshift.spec.Contract k = spec.contract();
        boolean dropsSomething = spec.mode() == dev.shapeshift.spec.Mode.IN_PLACE ? !k.dropColumns().isEmpty() : k.dropTable();
        java.time.Duration window = dropsSomething ? k.brownout() : null;
        try (PreparedStatement ps = c.prepareStatement("SELECT id, status, started_at, ended_at FROM shapeshift.brownout "
                + "WHERE migration = ? ORDER BY id DESC LIMIT 1")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return new Snapshot.BrownoutState(window, k.brownoutAbortAfter(), k.quietPeriod(), rs.getLong(1),
                            rs.getString(2), instant(rs.getTimestamp(3)), instant(rs.getTimestamp(4)));
                }
            }
        }
        return window == null ? null : new Snapshot.BrownoutState(window, k.brownoutAbortAfter(), k.quietPeriod(), null,
                null, null, null);
    }

    private static Snapshot.Run run(Connection c, String migration, String filter) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id, status, started_at, finished_at "
                + "FROM shapeshift.reconcile_run WHERE migration = ? " + filter + "ORDER BY id DESC LIMIT 1")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Snapshot.Run(rs.getLong(1), rs.getString(2), instant(rs.getTimestamp(3)),
                        instant(rs.getTimestamp(4))) : null;
            }
        }
    }

    private static String one(Connection c, String sql, String migration) throws SQLException {
        return Sql.one(c, sql, rs -> rs.getString(1), migration);
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
