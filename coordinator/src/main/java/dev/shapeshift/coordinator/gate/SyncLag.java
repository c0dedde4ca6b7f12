package dev.shapeshift.coordinator.gate;

import java.time.Duration;

/**
 * How far the sync is behind the source's WAL.
 *
 * @param bytes            WAL bytes between the slot's confirmed flush and the current WAL position;
 *                         null when there is no slot
 * @param lag              an upper bound on the time lag; null when unknown (no slot, or not caught up
 *                         within the probe's wait)
 * @param heartbeatAge     age of the bridge's last heartbeat row; null when there is none
 * @param detail           for people, e.g. {@code "slot ss_users caught up (0 bytes behind)"}
 */
public record SyncLag(Long bytes, Duration lag, Duration heartbeatAge, String detail) {
    public static SyncLag unknown(String detail) {
        return new SyncLag(null, null, null, detail);
    }
}
