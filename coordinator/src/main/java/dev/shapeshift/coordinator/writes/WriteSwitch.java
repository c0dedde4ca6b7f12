package dev.shapeshift.coordinator.writes;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.contract.ReadCounter;
import dev.shapeshift.coordinator.gate.CatchUpProbe;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.coordinator.gate.StoredSpec;
import dev.shapeshift.coordinator.gate.SyncLag;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.refresh.SyncDirection;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database side of the write switch that is not a refresh (docs/phases.md, "The write switch"):
 * relaxing the old shape's NOT NULL constraints new code can no longer satisfy ({@link
 * NotNullRelax}), the replica identity ({@link ReplicaIdentity}), and, after the write switch is
 * undone, draining the reverse sync before the forward sync takes over again (and restoring NOT NULL).
 */
public final class WriteSwitch {
    private static final Logger log = LoggerFactory.getLogger(WriteSwitch.class);
    /** How long the relaxing ALTER waits for the table's lock inside the move's transaction. */
    static final String RELAX_LOCK_TIMEOUT = "2s";

    private WriteSwitch() {
    }

    /**
     * Everything the move to writes-switched does in the database besides the phase, the flags and
     * the direction: relax NOT NULL, and note the counts of statements that write only the old
     * shape ({@link OldShapeWrites}) so that later calls of them are seen; in table mode, install
     * the old table's read counter ({@link ReadCounter}), which counts every statement of others on
     * it by identity until the contract.
     */
    public static List<String> atSwitch(Connection c, String migration, MigrationSpec spec) throws SQLException {
        OldShapeWrites.snapshot(c, migration, spec);
        KeySequences.atSwitch(c, migration, spec);
        List<String> relaxed = NotNullRelax.relax(c, migration, spec);
        ReplicaIdentity.setFull(c, migration, spec);
        if (spec.mode() == dev.shapeshift.spec.Mode.TABLE && spec.contract().readCounter()) {
            ReadCounter.install(c, migration, spec.source().schema(), spec.source().table());
        }
        return relaxed;
    }

    /**
     * One metadata-only {@code ALTER TABLE table clause} in the switch's transaction, its lock wait
     * bounded by {@link #RELAX_LOCK_TIMEOUT}: a time-out fails the whole move as TRANSIENT (nothing
     * changed, the move is retried) naming {@code what} could not be done.
     */
    static void alterBriefly(Connection c, String table, String clause, String what) throws SQLException {
        LockSafeDdl.briefly(c, RELAX_LOCK_TIMEOUT, "the write switch could not " + what, cc -> {
            try (Statement s = cc.createStatement()) {
                s.execute("ALTER TABLE " + table + " " + clause);
            }
            return null;
        });
    }

    /**
     * The old columns new code stops writing at the write switch: those with a reverse transform and
     * those the contract drops, never key columns.
     */
    static Set<String> oldColumnsNewCodeStopsWriting(MigrationSpec spec) {
        Set<String> columns = new LinkedHashSet<>(spec.writes().reverse().keySet());
        columns.addAll(spec.contract().dropColumns());
        columns.removeAll(spec.source().key());
        return columns;
    }

    /** The state a drain looks at. */
    public record State(SyncDirection direction, Instant phaseChangedAt, List<String> relaxed) {
    }

    public static State state(Connection c, String migration) throws SQLException {
        State st = Sql.one(c, "SELECT sync_direction, phase_changed_at, relaxed_not_null "
                + "FROM shapeshift.migration WHERE name = ?", rs -> {
                    Timestamp t = rs.getTimestamp(2);
                    Array a = rs.getArray(3);
                    return new State(SyncDirection.fromLabel(rs.getString(1)), t == null ? null : t.toInstant(),
                            a == null ? List.of() : List.of((String[]) a.getArray()));
                }, migration);
        if (st == null) {
            throw new ShapeshiftException(ErrorCode.NOT_FOUND, "no migration named '" + migration + "'");
        }
        return st;
    }

    /**
     * After the write switch was undone (the write flag is off): once applications have had
     * {@code writes.flagPropagation} to see the flag and every sync stream has applied past the
     * current WAL position (so every write an application made while it still wrote only the new
     * shape has reached the old shape), turns the sync forward and restores the relaxed NOT NULL
     * constraints. Returns what it did, or why it still waits (empty: nothing to do).
     *
     * @param probeWait how long the catch-up probe may wait
     */
    public static Optional<String> drain(Database db, MigrationRecord m, Duration probeWait) {
        try (Connection c = db.connect("coordinator")) {
            // The driver and a rollback both drain: one at a time, or both read the direction
            // reverse, both flip it and both restore NOT NULL, dropping each other's check
            // constraint (seen: "constraint ss_nn_label … does not exist" in WriteSwitchIT). The
            // second one waits here, then finds the sync forward and has nothing to do.
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_lock(?, 1)")) {
                ps.setInt(1, SyncDirection.lockId(m.name()));
                ps.executeQuery().close();
            }
            try {
                return drainLocked(db, c, m, probeWait);
            } finally {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?, 1)")) {
                    ps.setInt(1, SyncDirection.lockId(m.name()));
                    ps.executeQuery().close();
                }
            }
        } catch (SQLException e) {
            throw dev.shapeshift.db.SqlStates.translate("draining the reverse sync of " + m.name(), e);
        }
    }

    private static Optional<String> drainLocked(Database db, Connection c, MigrationRecord m, Duration probeWait)
            throws SQLException {
        StoredSpec spec = StoredSpec.of(m);
        PhasePlan plan = spec.plan();
        State st = state(c, m.name());
        if (plan.writesNew(m.phase())) {
            return Optional.empty();
        }
        if (st.direction() != SyncDirection.REVERSE) {
            if (st.relaxed().isEmpty()) {
                return Optional.empty();
            }
            // An earlier restore failed (a NULL written meanwhile failed its validation): try again. A
            // failure throws: the driver records it in the message and the audit log and retries with
            // back-off until the NULLs are fixed.
            List<String> restored = NotNullRelax.restore(db, m.name(), SpecJson.read(m.specJson()), st.relaxed());
            return Optional.of("NOT NULL restored on " + restored + " (an earlier try had failed)");
        }
        Instant now = now(c);
        Duration since = st.phaseChangedAt() == null ? Duration.ZERO : Duration.between(st.phaseChangedAt(), now);
        Duration propagation = spec.writes().flagPropagation();
        if (since.compareTo(propagation) < 0) {
            return Optional.of("write switch undone " + Gates.format(since) + " ago; the reverse sync keeps the old "
                    + "shape up to date until applications have seen the write flag off (writes.flagPropagation "
                    + "= " + dev.shapeshift.spec.DurationText.format(propagation) + ")");
        }
        SyncLag lag = CatchUpProbe.probe(c, m.name(), m.slotName(), probeWait);
        if (lag.lag() == null) {
            return Optional.of("write switch undone; waiting for the reverse sync to catch up before the forward "
                    + "sync takes over: " + lag.detail());
        }
        Catalog.inTransaction(c, "turning the sync of " + m.name() + " forward", cc -> {
            SyncDirection.set(cc, m.name(), SyncDirection.FORWARD);
            Catalog.audit(cc, m.name(), "coordinator", "sync direction forward", null, null, "write switch undone "
                    + Gates.format(since) + " ago; reverse sync caught up (" + Gates.format(lag.lag()) + ")");
            return null;
        });
        log.info("sync direction forward after the write switch was undone migration={} lag={}", m.name(), lag.lag());
        // Again after the drain: the new code may have inserted until it saw the flag go off.
        KeySequences.atUndo(c, m.name(), SpecJson.read(m.specJson()));
        List<String> restored = NotNullRelax.restore(db, m.name(), SpecJson.read(m.specJson()), st.relaxed());
        String counter = ReadCounter.remove(db, m.name(), "write switch undone");
        String identity = ReplicaIdentity.restore(db, m.name());
        return Optional.of("the reverse sync caught up after the write switch was undone; the sync runs forward "
                + "again (the old shape is authoritative)" + (restored.isEmpty() ? "" : "; NOT NULL restored on "
                + restored) + (counter == null ? "" : "; " + counter) + (identity == null ? "" : "; " + identity));
    }

    private static Instant now(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        }
    }
}
