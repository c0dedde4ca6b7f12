package dev.shapeshift.coordinator.gate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * Measures sync lag from the replication slot: bytes between the slot's confirmed flush position
 * and the current WAL position. A byte count is not a time, so when the slot is behind the probe
 * notes the current WAL position and waits (up to {@code wait}) for the slot to confirm it; the
 * time that took is an upper bound on the lag. The bridge's heartbeats keep the slot moving on
 * idle tables. With {@code wait} zero the probe never blocks and reports the lag only when the
 * slot is fully caught up.
 */
public final class LagProbe {
    private static final Duration POLL = Duration.ofMillis(100);

    private LagProbe() {
    }

    public static SyncLag probe(Connection c, String slot, Duration wait) throws SQLException {
        Duration heartbeat = heartbeatAge(c, slot);
        if (slot == null) {
            return new SyncLag(null, null, heartbeat, "no replication slot recorded for this migration");
        }
        long start = System.nanoTime();
        String target;
        long bytes;
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_current_wal_lsn()::text, "
                + "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots "
                + "WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new SyncLag(null, null, heartbeat, "replication slot " + slot + " does not exist");
                }
                target = rs.getString(1);
                bytes = rs.getLong(2);
            }
        }
        if (bytes <= 0) {
            return new SyncLag(0L, Duration.ZERO, heartbeat, "slot " + slot + " caught up (0 bytes behind)");
        }
        long deadline = start + wait.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_wal_lsn_diff(?::pg_lsn, confirmed_flush_lsn) "
                    + "FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, target);
                ps.setString(2, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getDouble(1) <= 0) {
                        Duration took = Duration.ofNanos(System.nanoTime() - start);
                        return new SyncLag(bytes, took, heartbeat, "slot " + slot + " confirmed WAL position "
                                + target + " within " + Gates.format(took));
                    }
                }
            }
        }
        return new SyncLag(bytes, null, heartbeat, "slot " + slot + " is " + bytes + " bytes behind"
                + (wait.isZero() ? "" : " and did not catch up within " + Gates.format(wait)));
    }

    /** Age of the bridge's last heartbeat for the slot; null if the table or the row is missing. */
    private static Duration heartbeatAge(Connection c, String slot) throws SQLException {
        if (slot == null) {
            return null;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass('shapeshift.heartbeat') IS NOT NULL");
             ResultSet rs = ps.executeQuery()) {
            if (!rs.next() || !rs.getBoolean(1)) {
                return null;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT (extract(epoch from clock_timestamp() - beat_at) * 1000)"
                + "::bigint FROM shapeshift.heartbeat WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Duration.ofMillis(Math.max(0, rs.getLong(1))) : null;
            }
        }
    }
}
