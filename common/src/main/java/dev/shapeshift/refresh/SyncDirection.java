package dev.shapeshift.refresh;

import dev.shapeshift.db.Sql;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.Labelled;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Which shape the sync writes, read by every sync transaction of a migration with a write switch
 * and flipped by the coordinator (catalog column {@code migration.sync_direction}):
 * {@link #FORWARD} makes {@code new = transform(old)}, {@link #REVERSE} makes
 * {@code old = reverse(new, old)}.
 *
 * <p>Why a lock: after the flip to reverse commits, the write flag tells applications to write only
 * the new shape; a forward refresh still running then would overwrite such a write with
 * {@code transform(stale old)} and lose it. So a sync transaction takes
 * {@code pg_advisory_xact_lock_shared(id, 0)} before it reads the direction (a statement of its
 * own, so its snapshot is taken after the lock is granted) and holds it to its commit; the flip
 * takes the same lock exclusively in the transaction that changes the direction (and the write
 * flag). Every refresh therefore runs entirely before the flip commits or entirely after it, in
 * the new direction. The locks live in memory: no WAL, no row locks on the catalog.
 */
public enum SyncDirection implements Labelled {
    /** {@code forward}. */
    FORWARD,
    /** {@code reverse}. */
    REVERSE;

    public static SyncDirection fromLabel(String label) {
        return REVERSE.label().equals(label) ? REVERSE : FORWARD;
    }

    /** The advisory lock's first key for one migration (stable: {@link String#hashCode} is specified). */
    public static int lockId(String migration) {
        return ("shapeshift.direction:" + migration).hashCode();
    }

    /** What one sync transaction does: the direction and the phase it was read with. */
    public record Mode(SyncDirection direction, Phase phase) {
    }

    /** Takes the shared side of the direction lock for this transaction, then reads the direction and phase. */
    public static Mode enter(Connection c, String migration) throws SQLException {
        if (c.getAutoCommit()) {
            throw new IllegalStateException("the sync direction must be read inside the refresh's transaction");
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock_shared(?, 0)")) {
            ps.setInt(1, lockId(migration));
            ps.executeQuery().close();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT sync_direction, phase FROM shapeshift.migration WHERE name = ?")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new Mode(FORWARD, Phase.ROLLED_BACK);
                }
                return new Mode(fromLabel(rs.getString(1)), Phase.fromLabel(rs.getString(2)));
            }
        }
    }

    /**
     * Flips the direction inside the caller's transaction (the one that also changes the phase or the
     * write flag): waits for the sync transactions running now, then writes the column.
     */
    public static void set(Connection c, String migration, SyncDirection to) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?, 0)")) {
            ps.setInt(1, lockId(migration));
            ps.executeQuery().close();
        }
        // clock_timestamp(), not now(): the time after the lock was granted, not when the transaction
        // began (a flip that waited for its locks would otherwise date itself too early, and old-shape
        // writes committed while it waited would look later than it: OldShapeWrites).
        Sql.update(c, "UPDATE shapeshift.migration SET sync_direction = ?, "
                + "direction_changed_at = clock_timestamp() WHERE name = ? AND sync_direction <> ?",
                to.label(), migration, to.label());
    }

    /** The direction stored for a migration (no lock: for status pages and the driver). */
    public static SyncDirection read(Connection c, String migration) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT sync_direction FROM shapeshift.migration WHERE name = ?")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? fromLabel(rs.getString(1)) : FORWARD;
            }
        }
    }
}
