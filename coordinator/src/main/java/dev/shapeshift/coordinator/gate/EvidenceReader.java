package dev.shapeshift.coordinator.gate;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FindingStore;
import dev.shapeshift.spec.Structure;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.catalog.SyncStreamStore;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecValidator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Reads a migration's {@link Evidence} from the catalog tables (chunks, reconcile runs, drift,
 * sync streams; the lag from {@link CatchUpProbe}). Reconcile results are read from {@code reconcile_run} and {@code drift}
 * directly, so the gates do not depend on how the reconciler is built. Any run with status
 * {@code done} counts as a full run.
 */
public final class EvidenceReader {
    private final Catalog catalog;

    public EvidenceReader(Catalog catalog) {
        this.catalog = catalog;
    }

    /**
     * @param lagWait how long the lag probe may wait for every sync stream to apply past the current
     *                WAL position (zero for status pages: nothing is written; the spec's max lag for a transition)
     */
    public Evidence read(MigrationRecord m, StoredSpec spec, Duration lagWait) {
        return read(m, spec, lagWait, null);
    }

    /**
     * @param to the move the evidence is for, or null (status pages): the write switch's round trip
     *           on live rows is evaluated only for a move to {@code writes-switched}
     */
    public Evidence read(MigrationRecord m, StoredSpec spec, Duration lagWait, Phase to) {
        return read(m, spec, lagWait, to, false);
    }

    /**
     * @param forMove the evidence decides a move now: the write switch's round trip is evaluated
     *                afresh; otherwise (a look at the gate while waiting) a result up to
     *                {@link WriteEvidenceReader#ROUND_TRIP_REUSE} old is shown, so waiting does not scan
     *                the table every tick
     */
    public Evidence read(MigrationRecord m, StoredSpec spec, Duration lagWait, Phase to, boolean forMove) {
        try (Connection c = catalog.connect()) {
            return read(c, m, spec, lagWait, to, forMove);
        } catch (SQLException e) {
            throw SqlStates.translate("reading gate evidence of " + m.name(), e);
        }
    }

    private Evidence read(Connection c, MigrationRecord m, StoredSpec spec, Duration lagWait, Phase to, boolean forMove)
            throws SQLException {
        int chunks;
        int done;
        Instant finished;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*), count(*) FILTER (WHERE status = 'done'), "
                + "max(finished_at) FROM shapeshift.chunk WHERE migration = ?")) {
            ps.setString(1, m.name());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                chunks = rs.getInt(1);
                done = rs.getInt(2);
                finished = chunks > 0 && done == chunks ? instant(rs.getTimestamp(3)) : null;
            }
        }
        ReconcileRun run = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT id, status, started_at, finished_at, rows_checked, "
                + "drift_found, message FROM shapeshift.reconcile_run WHERE migration = ? AND status = 'done' "
                + "AND finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1")) {
            ps.setString(1, m.name());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    run = new ReconcileRun(rs.getLong(1), rs.getString(2), instant(rs.getTimestamp(3)),
                            instant(rs.getTimestamp(4)), rs.getLong(5), rs.getLong(6), rs.getString(7));
                }
            }
        }
        long openDrift;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM shapeshift.drift WHERE migration = ? AND resolved_at IS NULL")) {
            ps.setString(1, m.name());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                openDrift = rs.getLong(1);
            }
        }
        Instant now;
        try (PreparedStatement ps = c.prepareStatement("SELECT clock_timestamp()");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            now = rs.getTimestamp(1).toInstant();
        }
        SyncLag lag = CatchUpProbe.probe(c, m.name(), m.slotName(), lagWait);
        List<SyncStream> streams = SyncStreamStore.list(c, m.name());
        Evidence.NewShape shape = m.phase() == Phase.PLANNED ? newShape(c, m) : null;
        return new Evidence(m.name(), m.phase(), m.phaseChangedAt(), now, chunks, done, finished, m.slotName(),
                m.startLsn(), lag, run, openDrift, spec.readSwitch().cleanFor(), spec.readSwitch().maxLag(),
                spec.contract().quietPeriod(), shape, streams, structure(c, m), spec.writes().switchWrites()
                        ? WriteEvidenceReader.read(c, m, spec, to == Phase.WRITES_SWITCHED, forMove) : null);
    }

    /** Whether the database has the new shape the spec describes (what the expand creates), by the expanded-spec checks. */
    static Evidence.NewShape newShape(Connection c, MigrationRecord m) {
        MigrationSpec spec;
        try {
            spec = SpecJson.read(m.specJson());
        } catch (ShapeshiftException e) {
            return new Evidence.NewShape(false, e.getMessage());
        }
        String where = spec.mode() == dev.shapeshift.spec.Mode.SINK && spec.target() != null && spec.target().sink() != null
                ? "sink '" + spec.target().sink().name() + "'" : spec.targetSchema() + "." + spec.targetTable();
        try {
            SpecValidator.resolveExpanded(m.name(), spec, c);
            return new Evidence.NewShape(true, "the new shape exists in " + where);
        } catch (ShapeshiftException e) {
            if (e.code() != ErrorCode.SPEC_INVALID) {
                throw e;
            }
            return new Evidence.NewShape(false, "the new shape is not in " + where + " (the expand DDL has not run): "
                    + e.getMessage().replace('\n', ' '));
        }
    }

    /** The staged structure's state, read for the phases before reads switch (the verified gate checks it). */
    static Evidence.Structure structure(Connection c, MigrationRecord m) throws SQLException {
        if (m.phase().compareTo(Phase.VERIFIED) > 0 || m.phase() == Phase.PLANNED) {
            return Evidence.Structure.NONE;
        }
        MigrationSpec spec;
        try {
            spec = SpecJson.read(m.specJson());
        } catch (ShapeshiftException e) {
            return Evidence.Structure.NONE;
        }
        if (Structure.items(spec).isEmpty()) {
            return Evidence.Structure.NONE;
        }
        List<FindingStore.Finding> findings = FindingStore.list(c, m.name());
        return new Evidence.Structure(Structure.pending(c, spec), findings.size(), FindingStore.summary(findings));
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
