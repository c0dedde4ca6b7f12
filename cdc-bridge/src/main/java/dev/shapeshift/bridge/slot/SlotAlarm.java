package dev.shapeshift.bridge.slot;

import java.util.Optional;

/**
 * The pure alarm rule for retained WAL: alarm when {@code wal_status} is {@code unreserved} or
 * {@code lost}, when {@code safe_wal_size} (known only with a finite
 * {@code max_slot_wal_keep_size}) is below the threshold, or when the WAL the slot holds exceeds
 * the retained-WAL budget (which works without a server limit). The reason reads like a status line.
 */
public final class SlotAlarm {
    private SlotAlarm() {
    }

    public static Optional<String> alarm(SlotState s, long safeWalAlarmBytes, long retainedWalAlarmBytes) {
        if ("unreserved".equals(s.walStatus()) || "lost".equals(s.walStatus())) {
            return Optional.of("slot " + s.name() + " wal_status=" + s.walStatus() + " lag_bytes=" + s.lagBytes()
                    + ": PostgreSQL is about to remove (or removed) WAL the slot needs");
        }
        if (s.safeWalSize() != null && safeWalAlarmBytes > 0 && s.safeWalSize() < safeWalAlarmBytes) {
            return Optional.of("slot " + s.name() + " safe_wal_size=" + s.safeWalSize() + " below alarm threshold "
                    + safeWalAlarmBytes + " lag_bytes=" + s.lagBytes() + ": the bridge is falling behind");
        }
        if (retainedWalAlarmBytes > 0 && s.retainedBytes() > retainedWalAlarmBytes) {
            return Optional.of("slot " + s.name() + " retains " + s.retainedBytes() + " bytes of WAL, over the budget "
                    + retainedWalAlarmBytes + " (retainedWalAlarmBytes) lag_bytes=" + s.lagBytes()
                    + ": the bridge is not confirming changes (stopped, or Kafka not acknowledging)");
        }
        return Optional.empty();
    }
}
