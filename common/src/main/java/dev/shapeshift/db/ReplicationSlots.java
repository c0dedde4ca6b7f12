package dev.shapeshift.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one sanctioned way to drop a replication slot: an explicit clean-up (after the contract, or
 * an operator's {@code shapeshift cleanup}), never the bridge on its own. Shared by the cdc-bridge
 * and the coordinator's driver, which cannot depend on the bridge module.
 */
public final class ReplicationSlots {
    private static final Logger log = LoggerFactory.getLogger(ReplicationSlots.class);

    private ReplicationSlots() {
    }

    /** Drops {@code slot} if it exists; true if it existed. Fails (object in use) while a bridge streams from it. */
    public static boolean drop(Database db, String slot) {
        try (Connection c = db.connect("cdc-bridge");
             PreparedStatement ps = c.prepareStatement(
                     "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            boolean dropped = ps.executeQuery().next();
            log.warn("replication slot dropped on request slot={} existed={}", slot, dropped);
            return dropped;
        } catch (SQLException e) {
            throw SqlStates.translate("dropping replication slot " + slot, e);
        }
    }
}
