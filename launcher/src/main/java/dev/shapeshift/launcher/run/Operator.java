package dev.shapeshift.launcher.run;

import dev.shapeshift.catalog.AuditEntry;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.contract.Contractor;
import dev.shapeshift.coordinator.drive.Step;
import dev.shapeshift.coordinator.gate.GateClosedException;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.coordinator.gate.StoredSpec;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.coordinator.status.MigrationStatus;
import dev.shapeshift.coordinator.status.StatusReader;
import dev.shapeshift.db.Database;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.Approval;
import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator at the terminal of {@code shapeshift run}: prints a one-line status every few
 * seconds (phase, rows, rate, ETA, lag, drift, and what the migration waits for) and gives the
 * approvals the driver waits for — the read switch and the contract, and with a write switch the
 * start of dual writes and the write switch — when the spec leaves them manual, their gate is
 * open and the {@link Approver} says yes. An approval is the same move an operator makes with {@code shapeshift phase advance} or {@code shapeshift contract}, through the
 * same gates and audit; everything else is the coordinator's driver's.
 */
public final class Operator {
    private static final Logger log = LoggerFactory.getLogger(Operator.class);
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    /** What a caller sees while it follows: every phase change, and every status line. */
    public interface Listener {
        default void phase(Phase from, Phase to) {
        }

        default void tick(MigrationStatus status) {
        }
    }

    /** Asked once per phase whose approval is due; answers whether to make the move now. */
    @FunctionalInterface
    public interface Approver {
        boolean approve(String question);

        /** {@code --yes}: every approval is given as soon as its gate is open. */
        Approver YES = q -> true;
        /** No terminal: nothing is approved here; the status line names the command that approves. */
        Approver NONE = q -> false;
    }

    private final Database db;
    private final Catalog catalog;
    private final StatusReader status;
    private final Transitions transitions;
    private final String migration;
    private final String actor;
    private final PrintStream out;
    private final Approver approver;
    private Phase asked;

    public Operator(Database db, String migration, String actor, PrintStream out, Approver approver) {
        this.db = db;
        this.catalog = new Catalog(db, "operator");
        this.status = new StatusReader(catalog, GateWiring.gates(db));
        this.transitions = GateWiring.transitions(db, "operator");
        this.migration = migration;
        this.actor = actor;
        this.out = out;
        this.approver = approver;
    }

    /**
     * Follows the migration until it is finished (contracted and cleaned up, or rolled back) and
     * returns its final phase, telling {@code listener} every phase it sees (previous, new) and
     * every status it prints.
     */
    public Phase follow(Duration every, Listener listener) throws InterruptedException {
        Phase last = null;
        while (true) {
            MigrationRecord m = catalog.get(migration);
            if (m.phase() != last) {
                listener.phase(last, m.phase());
                last = m.phase();
            }
            MigrationStatus s = status.read(m);
            out.println(line(s));
            listener.tick(s);
            if (finished(m)) {
                return m.phase();
            }
            approve(m);
            Thread.sleep(every.toMillis());
        }
    }

    /** Rolled back, or contracted and cleaned up by the driver. */
    boolean finished(MigrationRecord m) {
        if (m.phase() == Phase.ROLLED_BACK) {
            return true;
        }
        return m.phase() == Phase.CONTRACTED && catalog.auditLog(migration, 0, 10_000).stream()
                .map(AuditEntry::action).anyMatch(Step.CLEANUP_ACTION::equals);
    }

    private void approve(MigrationRecord m) {
        StoredSpec spec = StoredSpec.of(m);
        Phase to;
        String question;
        Phase next = spec.plan().next(m.phase()).orElse(null);
        if (next != null && next != Phase.CONTRACT_READY && next != Phase.CONTRACTED
                && m.phase().compareTo(Phase.VERIFIED) >= 0 && spec.readSwitch().approval() == Approval.MANUAL) {
            to = next;
            question = question(migration, spec, to);
        } else if (m.phase() == Phase.CONTRACT_READY && spec.contract().approval() == Approval.MANUAL) {
            to = Phase.CONTRACTED;
            question = "Contract " + migration + " now: archive and drop the old shape (the one irreversible step)?";
        } else {
            return;
        }
        if (m.phase() == asked || !transitions.check(migration, to).open()) {
            return;
        }
        asked = m.phase();
        if (!approver.approve(question)) {
            out.println("    not approved here; approve later with `" + (to == Phase.CONTRACTED
                    ? "shapeshift contract " + migration : "shapeshift phase advance " + migration + " --to " + to)
                    + " --reason …`");
            return;
        }
        String reason = "approved at the terminal of shapeshift run";
        try {
            if (to == Phase.CONTRACTED) {
                new Contractor(db, transitions).contract(migration, actor, reason);
            } else {
                transitions.advance(migration, to, actor, reason);
            }
            out.println("    approved: " + to);
        } catch (GateClosedException e) {
            asked = null; // the evidence moved between the check and the move: ask again when it is back
            out.println("    the gate closed again: " + e.report().summary());
        } catch (RuntimeException e) {
            asked = null;
            log.warn("approval failed migration={} to={} error={}", migration, to, e.toString());
            out.println("    approval failed: " + e.getMessage());
        }
    }

    /** The question before a move the spec leaves to an operator (switch.approval: manual). */
    static String question(String migration, StoredSpec spec, Phase to) {
        return switch (to) {
            case DUAL_WRITES -> "Start dual writes of " + migration + " now (the application version that writes both "
                    + "shapes is deployed; the old shape stays authoritative)?";
            case WRITES_SWITCHED -> "Switch writes of " + migration + " to the new shape now (flag " + spec.writeFlag()
                    + " on: applications stop writing the old shape"
                    + (spec.writes().reversible() ? "; the reverse sync keeps it for old readers and rollback)?"
                    : "; no writes.reverse: the old shape goes stale and rollback after the write switch is impossible)?");
            default -> "Switch reads of " + migration + " to the new shape now (flag " + spec.flag() + " on)?";
        };
    }

    /** {@code 12:00:01 users backfilling 42% 420,000/1,000,000 rows 12,345 rows/s ETA 47s lag 0.2s drift 0 | message}. */
    static String line(MigrationStatus s) {
        StringBuilder b = new StringBuilder();
        b.append(LocalTime.now().format(CLOCK)).append(' ').append(s.name()).append("  ").append(s.phase());
        MigrationStatus.Progress p = s.progress();
        if (p != null && p.chunks() > 0) {
            long total = Math.max(p.estimatedRows(), p.rowsCopied());
            b.append(String.format(Locale.ROOT, "  %d%% %,d/%,d rows", total == 0 ? 100 : p.rowsCopied() * 100 / total,
                    p.rowsCopied(), total));
            if (p.chunksDone() < p.chunks()) {
                b.append(String.format(Locale.ROOT, "  %,.0f rows/s", p.rowsPerSecond()));
                b.append("  ETA ").append(p.etaSeconds() == null ? "?" : Gates.format(Duration.ofSeconds(p.etaSeconds())));
                String throttle = p.throttleSummary(s.now());
                if (throttle != null) {
                    b.append("  ").append(throttle);
                }
            }
        }
        if (s.sync() != null && s.sync().lagSeconds() != null) {
            b.append(String.format(Locale.ROOT, "  lag %.1fs", s.sync().lagSeconds()));
        }
        if (s.drift() != null) {
            b.append("  drift ").append(s.drift().openTotal());
        }
        if (s.message() != null && !s.message().isBlank()) {
            b.append("  | ").append(s.message().lines().findFirst().orElse(""));
        }
        return b.toString();
    }
}
