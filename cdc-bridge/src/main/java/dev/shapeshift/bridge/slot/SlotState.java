package dev.shapeshift.bridge.slot;

import dev.shapeshift.db.SqlStates;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * One row of {@code pg_replication_slots} plus the server's current WAL position.
 *
 * @param safeWalSize null when {@code max_slot_wal_keep_size} is unlimited
 */
public record SlotState(String name, boolean active, long confirmedFlush, long restartLsn, String walStatus,
                        Long safeWalSize, long currentLsn) {

    public long lagBytes() {
        return Math.max(0, currentLsn - confirmedFlush);
    }

    /** WAL the server keeps for this slot: from its {@code restart_lsn} to the current position. */
    public long retainedBytes() {
        return Math.max(0, currentLsn - restartLsn);
    }

    public static Optional<SlotState> read(Connection c, String slot) {
        String sql = "SELECT slot_name, active, confirmed_flush_lsn::text, restart_lsn::text, wal_status, "
                + "safe_wal_size, pg_current_wal_lsn()::text FROM pg_replication_slots WHERE slot_name = ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                long safe = rs.getLong(6);
                Long safeWal = rs.wasNull() ? null : safe;
                return Optional.of(new SlotState(rs.getString(1), rs.getBoolean(2), lsn(rs.getString(3)),
                        lsn(rs.getString(4)), rs.getString(5), safeWal, lsn(rs.getString(7))));
            }
        } catch (SQLException e) {
            throw SqlStates.translate("reading replication slot " + slot, e);
        }
    }

    private static long lsn(String text) {
        return text == null ? 0L : Lsn.parse(text);
    }
}
