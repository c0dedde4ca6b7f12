package dev.shapeshift.coordinator.reconcile;

import dev.shapeshift.db.Database;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether the migration's sync has applied every change committed before a WAL position. A key
 * that differed at a check is compared again only once this says yes for the check's LSN (and the
 * spec's {@code recheckAfter} has passed), so sync lag is not mistaken for drift.
 */
@FunctionalInterface
public interface SyncProgress {

    /** True when every change committed before {@code lsn} (text form {@code X/Y}) has reached the target. */
    boolean appliedPast(String lsn);

    /** No sync runs for the migration: nothing can be in flight, only {@code recheckAfter} is waited for. */
    SyncProgress NO_SYNC = lsn -> true;

    /**
     * The default signal: the replication slot's {@code confirmed_flush_lsn} has reached the LSN.
     * The bridge confirms a position once its change events are acknowledged by Kafka, which is
     * before a worker applies them: the spec's {@code recheckAfter} covers that last step.
     */
    static SyncProgress slot(Database db, String slotName) {
        return new Slot(db, slotName);
    }

    /** Parses {@code X/Y} (two hex halves) into one comparable number. */
    static long position(String lsn) {
        int slash = lsn == null ? -1 : lsn.indexOf('/');
        if (slash <= 0 || slash == lsn.length() - 1) {
            throw new IllegalArgumentException("not an LSN: " + lsn);
        }
        return (Long.parseLong(lsn.substring(0, slash), 16) << 32) | Long.parseLong(lsn.substring(slash + 1), 16);
    }

    /** {@link #slot}: reads {@code pg_replication_slots}, remembering the highest position seen. */
    final class Slot implements SyncProgress {
        private final Database db;
        private final String slotName;
        private final AtomicLong confirmed = new AtomicLong(-1);

        Slot(Database db, String slotName) {
            this.db = db;
            this.slotName = slotName;
        }

        @Override
        public boolean appliedPast(String lsn) {
            long wanted = position(lsn);
            if (confirmed.get() >= wanted) {
                return true;
            }
            try (Connection c = db.connect("coordinator");
                 PreparedStatement ps = c.prepareStatement(
                         "SELECT confirmed_flush_lsn::text FROM pg_catalog.pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slotName);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ShapeshiftException(ErrorCode.SOURCE_CHANGED, "replication slot " + slotName
                                + " does not exist: the sync has a gap; reconcile cannot tell lag from drift "
                                + "(see docs/cdc-bridge.md on slot loss)");
                    }
                    String flushed = rs.getString(1);
                    if (flushed != null) {
                        confirmed.accumulateAndGet(position(flushed), Math::max);
                    }
                }
            } catch (SQLException e) {
                throw SqlStates.translate("reading replication slot " + slotName, e);
            }
            return confirmed.get() >= wanted;
        }
    }
}
