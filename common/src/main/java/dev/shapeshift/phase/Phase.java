package dev.shapeshift.phase;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The lifecycle of one migration. The legal moves are the table in {@link #next()}; everything
 * else is refused. Every move before {@link #CONTRACTED} can be undone by {@link #ROLLED_BACK}.
 */
public enum Phase {
    PLANNED("planned"),
    EXPANDED("expanded"),
    SYNCING("syncing"),
    BACKFILLING("backfilling"),
    BACKFILLED("backfilled"),
    VERIFIED("verified"),
    READS_SWITCHED("reads-switched"),
    CONTRACT_READY("contract-ready"),
    CONTRACTED("contracted"),
    ROLLED_BACK("rolled-back");

    private static final Map<Phase, Set<Phase>> TRANSITIONS = Map.of(
            PLANNED, EnumSet.of(EXPANDED, ROLLED_BACK),
            EXPANDED, EnumSet.of(SYNCING, ROLLED_BACK),
            SYNCING, EnumSet.of(BACKFILLING, ROLLED_BACK),
            BACKFILLING, EnumSet.of(BACKFILLED, ROLLED_BACK),
            // Verification can fail (drift found): back to backfilled, repair, verify again.
            BACKFILLED, EnumSet.of(VERIFIED, ROLLED_BACK),
            VERIFIED, EnumSet.of(READS_SWITCHED, BACKFILLED, ROLLED_BACK),
            // Flipping reads back is one move; the old shape is still complete.
            READS_SWITCHED, EnumSet.of(CONTRACT_READY, VERIFIED, ROLLED_BACK),
            CONTRACT_READY, EnumSet.of(CONTRACTED, READS_SWITCHED, ROLLED_BACK),
            CONTRACTED, EnumSet.noneOf(Phase.class),
            ROLLED_BACK, EnumSet.noneOf(Phase.class));

    private final String label;

    Phase(String label) {
        this.label = label;
    }

    @JsonValue
    public String label() {
        return label;
    }

    @JsonCreator
    public static Phase fromLabel(String label) {
        for (Phase p : values()) {
            if (p.label.equals(label)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown phase '" + label + "'");
    }

    /** The phases this one may move to. */
    public Set<Phase> next() {
        return Collections.unmodifiableSet(TRANSITIONS.get(this));
    }

    public boolean canMoveTo(Phase to) {
        return TRANSITIONS.get(this).contains(to);
    }

    public boolean terminal() {
        return TRANSITIONS.get(this).isEmpty();
    }

    /** Whether sync must run in this phase (it starts at {@code syncing} and runs until the end). */
    public boolean syncActive() {
        return compareTo(SYNCING) >= 0 && compareTo(CONTRACTED) < 0;
    }

    @Override
    public String toString() {
        return label;
    }
}
