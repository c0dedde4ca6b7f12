package dev.shapeshift.phase;

import dev.shapeshift.spec.Writes;
import dev.shapeshift.spec.WriteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The order of one migration's phases after {@code verified}, which depends on its spec: without a
 * write switch {@code verified → reads-switched → contract-ready}; with one (spec
 * {@code writes.switch}) the seed's order {@code verified → dual-writes → reads-switched →
 * writes-switched → contract-ready}, or with {@code writes.order: reads-first} reads before dual
 * writes. {@link Phase} holds every legal move of any plan; this says which of them is the
 * migration's next step forward, and what applications read and write in each phase.
 */
public final class PhasePlan {
    private final List<Phase> order;
    private final boolean switchesWrites;

    private PhasePlan(List<Phase> order, boolean switchesWrites) {
        this.order = List.copyOf(order);
        this.switchesWrites = switchesWrites;
    }

    public static PhasePlan of(Writes writes) {
        List<Phase> o = new ArrayList<>(List.of(Phase.PLANNED, Phase.EXPANDED, Phase.SYNCING, Phase.BACKFILLING,
                Phase.BACKFILLED, Phase.VERIFIED));
        if (!writes.switchWrites()) {
            o.add(Phase.READS_SWITCHED);
        } else if (writes.order() == WriteOrder.READS_FIRST) {
            o.addAll(List.of(Phase.READS_SWITCHED, Phase.DUAL_WRITES, Phase.WRITES_SWITCHED));
        } else {
            o.addAll(List.of(Phase.DUAL_WRITES, Phase.READS_SWITCHED, Phase.WRITES_SWITCHED));
        }
        o.add(Phase.CONTRACT_READY);
        o.add(Phase.CONTRACTED);
        return new PhasePlan(o, writes.switchWrites());
    }

    public boolean switchesWrites() {
        return switchesWrites;
    }

    /** The phases in this migration's order (rolled-back is not in it). */
    public List<Phase> order() {
        return order;
    }

    /** The next phase forward, if {@code p} is in the plan and not its end. */
    public Optional<Phase> next(Phase p) {
        int i = order.indexOf(p);
        return i < 0 || i + 1 >= order.size() ? Optional.empty() : Optional.of(order.get(i + 1));
    }

    /** Whether the plan contains {@code p} (a migration without a write switch never dual-writes). */
    public boolean contains(Phase p) {
        return order.contains(p);
    }

    /** Whether {@code from → to} goes back in this plan (an undo); false for rolled-back. */
    public boolean backward(Phase from, Phase to) {
        int f = order.indexOf(from);
        int t = order.indexOf(to);
        return f >= 0 && t >= 0 && t < f;
    }

    /** Whether applications read the new shape in {@code p} (the read flag). */
    public boolean readsNew(Phase p) {
        return after(p, Phase.READS_SWITCHED) && p != Phase.ROLLED_BACK;
    }

    /** Whether applications write only the new shape in {@code p} (the write flag). */
    public boolean writesNew(Phase p) {
        return switchesWrites && after(p, Phase.WRITES_SWITCHED) && p != Phase.ROLLED_BACK;
    }

    /** Whether applications are asked to write both shapes in {@code p}. */
    public boolean dualWrites(Phase p) {
        return switchesWrites && after(p, Phase.DUAL_WRITES) && !writesNew(p) && p != Phase.ROLLED_BACK;
    }

    /** {@code p} is {@code at} or later in this plan. */
    private boolean after(Phase p, Phase at) {
        int i = order.indexOf(p);
        int a = order.indexOf(at);
        return i >= 0 && a >= 0 && i >= a;
    }
}
