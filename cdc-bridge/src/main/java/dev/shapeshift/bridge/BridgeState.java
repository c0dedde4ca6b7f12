package dev.shapeshift.bridge;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/** The bridge's lifecycle; the legal moves are the table in {@link #canMoveTo}. */
public enum BridgeState {
    /** Constructed, not started. */
    NEW,
    /** Waiting for the leader lock of its slot (another bridge streams). */
    STANDBY,
    /** Leader: checking the slot, preparing the publication, starting Debezium. */
    STARTING,
    /** Leader, Debezium streaming and publishing. */
    STREAMING,
    /** Stop requested: closing Debezium (which stores acknowledged offsets) and the lock. */
    STOPPING,
    STOPPED,
    /** Refused or crashed; {@link CdcBridge#failure()} says why. */
    FAILED;

    private static final Map<BridgeState, Set<BridgeState>> MOVES = Map.of(
            NEW, EnumSet.of(STANDBY, STOPPING, FAILED),
            STANDBY, EnumSet.of(STARTING, STOPPING, FAILED),
            STARTING, EnumSet.of(STREAMING, STANDBY, STOPPING, FAILED),
            STREAMING, EnumSet.of(STARTING, STANDBY, STOPPING, FAILED),
            STOPPING, EnumSet.of(STOPPED, FAILED),
            STOPPED, EnumSet.noneOf(BridgeState.class),
            FAILED, EnumSet.noneOf(BridgeState.class));

    public boolean canMoveTo(BridgeState to) {
        return MOVES.get(this).contains(to);
    }

    public boolean terminal() {
        return MOVES.get(this).isEmpty();
    }
}
