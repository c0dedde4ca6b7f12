package dev.shapeshift.phase;

import com.fasterxml.jackson.annotation.JsonCreator;
import dev.shapeshift.spec.Labelled;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The lifecycle of one migration. The legal moves are the table in {@link #next()}; everything
 * else is refused. Every move before {@link #CONTRACTED} can be undone by {@link #ROLLED_BACK}.
 */
public enum Phase implements Labelled {
    PLANNED,
    EXPANDED,
    SYNCING,
    BACKFILLING,
    BACKFILLED,
    VERIFIED,
    /** Applications write both shapes; the old one stays authoritative (spec {@code writes.switch}). */
    DUAL_WRITES,
    READS_SWITCHED,
    /** Applications write only the new shape; the reverse sync keeps the old one equal to reverse(new). */
    WRITES_SWITCHED,
    CONTRACT_READY,
    CONTRACTED,
    ROLLED_BACK;

    private static final Map<Phase, Set<Phase>> TRANSITIONS = Map.ofEntries(
            Map.entry(PLANNED, EnumSet.of(EXPANDED, ROLLED_BACK)),
            Map.entry(EXPANDED, EnumSet.of(SYNCING, ROLLED_BACK)),
            Map.entry(SYNCING, EnumSet.of(BACKFILLING, ROLLED_BACK)),
            Map.entry(BACKFILLING, EnumSet.of(BACKFILLED, ROLLED_BACK)),
            // Verification can fail (drift found): back to backfilled, repair, verify again.
            Map.entry(BACKFILLED, EnumSet.of(VERIFIED, ROLLED_BACK)),
            Map.entry(VERIFIED, EnumSet.of(READS_SWITCHED, DUAL_WRITES, BACKFILLED, ROLLED_BACK)),
            // With a write switch the order after verified is the spec's (writes.order); the gates
            // refuse a move that skips a step of it. Every step back is one move.
            Map.entry(DUAL_WRITES, EnumSet.of(READS_SWITCHED, WRITES_SWITCHED, VERIFIED, ROLLED_BACK)),
            // Flipping reads back is one move; the old shape is still complete.
            Map.entry(READS_SWITCHED, EnumSet.of(CONTRACT_READY, DUAL_WRITES, WRITES_SWITCHED, VERIFIED, ROLLED_BACK)),
            // Undoing the write switch: the write flag goes off; the reverse sync drains before forward sync resumes.
            Map.entry(WRITES_SWITCHED, EnumSet.of(CONTRACT_READY, READS_SWITCHED, DUAL_WRITES, ROLLED_BACK)),
            Map.entry(CONTRACT_READY, EnumSet.of(CONTRACTED, READS_SWITCHED, WRITES_SWITCHED, ROLLED_BACK)),
            Map.entry(CONTRACTED, EnumSet.noneOf(Phase.class)),
            Map.entry(ROLLED_BACK, EnumSet.noneOf(Phase.class)));

    @JsonCreator
    public static Phase fromLabel(String label) {
        return Labelled.parse(Phase.class, "phase", label);
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
        return label();
    }
}
