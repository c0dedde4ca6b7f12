package dev.shapeshift.coordinator.gate;

import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.refresh.SyncDirection;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FlagStore;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * Moves migrations through the phase machine on evidence: evaluate the gate, then the catalog's
 * compare-and-set. Moves that change which shape applications read ({@code reads-switched} on;
 * {@code verified} and {@code rolled-back} off) set the migration's flag in the same transaction
 * as the phase.
 *
 * <p>Non-atomic gap, named honestly: the evidence is read before the compare-and-set, so evidence
 * that changes in between (a drift row appearing a millisecond later) is not seen by this move. The
 * compare-and-set only guarantees nobody else moved the migration meanwhile; the reconciler and
 * the status page keep watching after the move, and undoing it is always one call.
 *
 * <p>Stopping work on rollback needs no call here: the bridge and the workers watch the phase in
 * the catalog and stop streaming and copying for a {@code rolled-back} migration.
 */
public final class Transitions {
    /** Phases in which applications read the new shape. */
    private static final Set<Phase> READS_NEW = EnumSet.of(Phase.READS_SWITCHED, Phase.CONTRACT_READY, Phase.CONTRACTED);

    private final Catalog catalog;
    private final FlagStore flags;
    private final EvidenceReader evidence;
    private final Gates gates;

    public Transitions(Catalog catalog, Gates gates) {
        this.catalog = catalog;
        this.flags = new FlagStore(catalog);
        this.evidence = new EvidenceReader(catalog);
        this.gates = gates;
    }

    public Transitions(Catalog catalog) {
        this(catalog, new Gates());
    }

    /** The gate of {@code to} for the migration as it is now; never blocks on the lag probe. */
    public GateReport check(String migration, Phase to) {
        MigrationRecord m = catalog.get(migration);
        return gates.evaluate(evidence.read(m, StoredSpec.of(m), Duration.ZERO, to), to);
    }

    /**
     * Moves {@code migration} to {@code to} if its gate is open.
     *
     * @throws GateClosedException naming every failed check
     * @throws ShapeshiftException ILLEGAL_TRANSITION (no such move), CONFLICT (moved concurrently),
     *                             NOT_FOUND
     */
    public MigrationRecord advance(String migration, Phase to, String actor, String reason) {
        if (reason == null || reason.isBlank()) {
            throw new ShapeshiftException(ErrorCode.USAGE, "a reason is required for every phase change "
                    + "(it goes to the audit log)");
        }
        if (to == Phase.CONTRACTED) {
            throw new ShapeshiftException(ErrorCode.ILLEGAL_TRANSITION, "migration " + migration + ": the move to "
                    + "contracted archives and drops the old shape, so only the contract does it: run "
                    + "`shapeshift contract " + migration + "` (it checks the same gate)");
        }
        MigrationRecord m = catalog.get(migration);
        Phase from = m.phase();
        if (!from.canMoveTo(to)) {
            throw new ShapeshiftException(ErrorCode.ILLEGAL_TRANSITION, "migration " + migration + " cannot move from "
                    + from + " to " + to + "; from " + from + " it can move to " + from.next());
        }
        StoredSpec spec = StoredSpec.of(m);
        PhasePlan plan = spec.plan();
        Duration wait = Gates.backward(from, to, plan) || !Gates.checksLag(to) ? Duration.ZERO : spec.readSwitch().maxLag();
        GateReport report = gates.evaluate(evidence.read(m, spec, wait, to, true), to);
        if (!report.open()) {
            throw new GateClosedException(report);
        }
        if (!plan.switchesWrites()) {
            boolean readsNew = READS_NEW.contains(to);
            if (readsNew != READS_NEW.contains(from) || to == Phase.ROLLED_BACK) {
                return flags.transitionWithFlag(migration, from, to, spec.flag(), readsNew, actor, reason);
            }
            return catalog.transition(migration, from, to, actor, reason);
        }
        return writeSwitchMove(m, from, to, spec, plan, actor, reason);
    }

    /**
     * A move of a migration with a write switch: the read and the write flag take the values of the
     * new phase in the same transaction as the phase. The move to {@code writes-switched} also turns
     * the sync to reverse there, under the direction lock ({@link SyncDirection#set}): no forward
     * refresh runs once applications can see the write flag. A move back from it leaves the sync
     * reverse: the driver turns it forward only after applications have seen the flag go off and
     * the reverse sync has caught up ({@code WriteSwitch.drain}). Old-shape NOT NULL constraints
     * the new code cannot satisfy are relaxed before the move ({@code NotNullRelax.relax}).
     */
    private MigrationRecord writeSwitchMove(MigrationRecord m, Phase from, Phase to, StoredSpec spec, PhasePlan plan,
                                            String actor, String reason) {
        boolean readsNew = plan.readsNew(to);
        boolean writesNew = plan.writesNew(to);
        boolean reverse = to == Phase.WRITES_SWITCHED && !plan.backward(from, to);
        return catalog.transition(m.name(), from, to, actor, reason, c -> {
            if (reverse) {
                SyncDirection.set(c, m.name(), SyncDirection.REVERSE);
                dev.shapeshift.coordinator.writes.WriteSwitch.atSwitch(c, m.name(),
                        dev.shapeshift.spec.SpecJson.read(m.specJson()));
            } else if (!writesNew && plan.writesNew(from)) {
                dev.shapeshift.coordinator.writes.KeySequences.atUndo(c, m.name(),
                        dev.shapeshift.spec.SpecJson.read(m.specJson()));
            }
            if (readsNew != plan.readsNew(from) || to == Phase.ROLLED_BACK) {
                flags.setIn(c, spec.flag(), m.name(), readsNew, actor, "phase " + from + " -> " + to + ": " + reason);
            }
            if (writesNew != plan.writesNew(from) || to == Phase.ROLLED_BACK) {
                flags.setIn(c, spec.writeFlag(), m.name(), writesNew, actor, "phase " + from + " -> " + to + ": " + reason);
            }
        });
    }

    /** {@code rolled-back} from any phase before {@code contracted}; the flag goes off with it. */
    public MigrationRecord rollback(String migration, String actor, String reason) {
        return advance(migration, Phase.ROLLED_BACK, actor, reason);
    }
}
