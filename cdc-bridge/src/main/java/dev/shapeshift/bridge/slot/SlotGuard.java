package dev.shapeshift.bridge.slot;

import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.Connection;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The slot safety rules (docs/cdc-bridge.md): the bridge never drops a slot on its own, and it
 * refuses to start when the slot cannot serve the stored offset — the slot is gone while an
 * offset exists (Debezium would silently create a new slot at the current position), or the slot
 * has already confirmed past the stored offset (it was dropped and recreated, or advanced by
 * someone else). Either way changes were skipped and only a re-backfill repairs the target.
 */
public final class SlotGuard {
    private static final Logger log = LoggerFactory.getLogger(SlotGuard.class);

    private SlotGuard() {
    }

    /** Why the slot cannot serve the stored offset, or empty when it can. Pure: the rule itself. */
    public static Optional<String> problem(String slot, Optional<Long> storedLsn, Optional<SlotState> state) {
        if (storedLsn.isEmpty()) {
            return Optional.empty();
        }
        long stored = storedLsn.get();
        if (state.isEmpty()) {
            return Optional.of("replication slot " + slot + " is missing but the bridge has a stored offset at "
                    + Lsn.format(stored) + ": the slot was dropped and changes after that position are lost");
        }
        SlotState s = state.get();
        if ("lost".equals(s.walStatus())) {
            return Optional.of("replication slot " + slot + " has wal_status=lost: PostgreSQL removed WAL it still "
                    + "needed (max_slot_wal_keep_size exceeded)");
        }
        if (s.confirmedFlush() > stored) {
            return Optional.of("replication slot " + slot + " confirmed_flush_lsn " + Lsn.format(s.confirmedFlush())
                    + " is ahead of the stored offset " + Lsn.format(stored)
                    + ": the slot was recreated or advanced behind the bridge's back and cannot serve the changes in between");
        }
        return Optional.empty();
    }

    /** Throws SOURCE_CHANGED, naming the recovery, when the slot cannot serve the stored offset. */
    public static void check(Connection c, String slot, Optional<Long> storedLsn) {
        Optional<String> problem = problem(slot, storedLsn, SlotState.read(c, slot));
        if (problem.isPresent()) {
            throw new ShapeshiftException(ErrorCode.SOURCE_CHANGED, problem.get() + ". " + recovery(slot));
        }
        log.info("slot check passed slot={} stored_lsn={}", slot, storedLsn.map(Lsn::format).orElse("none"));
    }

    public static String recovery(String slot) {
        return "Recovery: re-backfill: shapeshift rollback <migration> and start the migration again "
                + "(so backfill covers the gap), then clear the bridge's stored offsets for slot " + slot
                + " (CdcBridge.forgetOffsets) and start the bridge";
    }

    /**
     * Drops the slot: only on an operator's explicit request (the clean-up command). Refused while a
     * bridge streams from it (PostgreSQL reports the slot active).
     */
    public static boolean dropSlot(Database db, String slot) {
        return dev.shapeshift.db.ReplicationSlots.drop(db, slot);
    }
}
