package dev.shapeshift.bridge.slot;

import dev.shapeshift.db.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Frees the slot after the bridge stopped its own capture engine, before it starts the next one.
 *
 * <p>A stopped engine has closed its replication connection, but its walsender notices only when it
 * next looks at the socket; while it replays a large transaction it may not look for seconds. A new
 * engine that asks for the slot meanwhile is refused ("replication slot … is active for PID …") and
 * Debezium waits before it asks again: a sync gap for every migration on the slot. So the bridge
 * waits a moment for the slot to be free, and then ends the walsender it knows to be its own
 * ({@code pg_terminate_backend}, allowed for backends of the same role): nothing is lost by that,
 * the slot keeps its confirmed position. A walsender that is not the bridge's own (another process
 * streams from the slot) is never touched: the next engine's start reports it.
 */
public final class SlotRelease {
    private static final Logger log = LoggerFactory.getLogger(SlotRelease.class);
    /** How long a walsender of the bridge's own stopped engine may take to leave on its own. */
    static final Duration GRACE = Duration.ofSeconds(2);
    /** How long to wait after ending it (or when ending it was refused) before starting anyway. */
    static final Duration AFTER_TERMINATE = Duration.ofSeconds(10);
    private static final Duration LOOK_EVERY = Duration.ofMillis(50);

    private SlotRelease() {
    }

    /**
     * Returns once {@code slot} is not active, or the walsender on it is not {@code ownPid}, or the
     * waits above are over (the next start then reports the slot as active and Debezium retries).
     *
     * @param ownPid the walsender of the engine just stopped, or null when it is unknown
     * @return whether the bridge had to end its old walsender
     */
    public static boolean await(Connection c, String slot, Integer ownPid, Consumer<Duration> pause, BooleanSupplier stop)
            throws SQLException {
        long graceEnd = System.nanoTime() + GRACE.toNanos();
        long end = graceEnd + AFTER_TERMINATE.toNanos();
        boolean terminated = false;
        while (!stop.getAsBoolean()) {
            Integer pid = activePid(c, slot);
            if (pid == null) {
                return terminated;
            }
            if (!pid.equals(ownPid)) {
                log.warn("slot still active after the engine stopped, not our walsender slot={} pid={} own_pid={}",
                        slot, pid, ownPid);
                return terminated;
            }
            long now = System.nanoTime();
            if (now >= end) {
                log.warn("our old walsender still holds the slot slot={} pid={}: starting anyway", slot, pid);
                return terminated;
            }
            if (!terminated && now >= graceEnd) {
                terminated = true;
                boolean sent = Sql.one(c, "SELECT pg_terminate_backend(?)", rs -> rs.getBoolean(1), pid);
                log.info("ending our stopped engine's walsender slot={} pid={} signalled={}", slot, pid, sent);
            }
            pause.accept(LOOK_EVERY);
        }
        return terminated;
    }

    /** The walsender streaming from {@code slot}, or null when none is. */
    public static Integer activePid(Connection c, String slot) throws SQLException {
        return Sql.one(c, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = ?",
                rs -> (Integer) rs.getObject(1), slot);
    }
}
