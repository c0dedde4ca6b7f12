package dev.shapeshift.coordinator.drive;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fault-injection hook for crash tests, <b>off by default</b>: with the system property
 * {@value #PROPERTY} (or the environment variable {@value #ENV}) set to {@code POINT[:N][,POINT[:N]…]},
 * the coordinator process halts — {@code Runtime.halt(137)}: no shutdown hook, no cleanup, the same
 * as SIGKILL — the N-th time (default 1) its driver reaches {@code POINT} for a migration. Read once
 * when the driver starts, logged at WARN then. It lets a test kill the coordinator exactly at a step
 * boundary, including inside a step (between the plan's commit and the publication of its tasks,
 * between two reconcile ranges), where a kill from outside timed on the catalog could not land.
 *
 * <p>Each point halts a coordinator <b>once per migration per catalog</b>: just before halting it
 * writes the audit entry {@code fault injection: halted at POINT} (actor: this instance), and a point
 * whose entry exists is passed over. So several coordinators armed alike can run at once: the
 * leader halts at a point, a standby takes over, passes that point and halts at the next.
 *
 * <p>Points ({@link Kind}): {@code expand-ddl}, {@code plan-stored}, {@code reconcile-range},
 * {@code phase-<phase>} (e.g. {@code phase-reads-switched}).
 */
public final class HaltPoint {
    private static final Logger log = LoggerFactory.getLogger(HaltPoint.class);
    public static final String PROPERTY = "shapeshift.fault.haltAt";
    public static final String ENV = "SHAPESHIFT_FAULT_HALT_AT";
    /** The exit status of a halt: what a shell reports for a process killed by SIGKILL. */
    public static final int EXIT = 137;
    /** The audit action written just before a halt, followed by the point ({@code expand-ddl}, {@code reconcile-range:2}). */
    public static final String AUDIT_ACTION = "fault injection: halted at ";

    /** No halt point: the production setting. */
    public static final HaltPoint NONE = new HaltPoint(List.of(), null, null);

    /** Where the driver can halt. */
    public enum Kind {
        /** The expand finished: its DDL committed (or the new shape was found); the phase is still {@code planned}. */
        EXPAND_DDL("expand-ddl"),
        /** The chunk plan is stored; no chunk task published and the phase not moved to {@code backfilling}. */
        PLAN_STORED("plan-stored"),
        /** A reconcile run checkpointed a range (the N-th such range of this process); the run is still {@code running}. */
        RECONCILE_RANGE("reconcile-range"),
        /** The driver is about to take a step for a migration in a phase: the move into it committed, nothing done in it. */
        PHASE("phase-");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    /** One armed point and how often this process reached it. */
    private record Arm(Kind kind, Phase phase, int nth, AtomicInteger reached) {
        String describe() {
            return (kind == Kind.PHASE ? kind.label + phase.label() : kind.label) + (nth == 1 ? "" : ":" + nth);
        }
    }

    private final List<Arm> arms;
    private final Catalog catalog;
    private final String actor;

    private HaltPoint(List<Arm> arms, Catalog catalog, String actor) {
        this.arms = arms;
        this.catalog = catalog;
        this.actor = actor;
    }

    /**
     * The points set by {@value #PROPERTY} or {@value #ENV}, else {@link #NONE}; logs them loudly when set.
     *
     * @param catalog where the once-per-migration audit entries are written and read
     * @param actor   this instance, as the audit names it
     */
    public static HaltPoint fromEnvironment(Catalog catalog, String actor) {
        String value = System.getProperty(PROPERTY);
        String source = PROPERTY;
        if (value == null || value.isBlank()) {
            value = System.getenv(ENV);
            source = ENV;
        }
        if (value == null || value.isBlank()) {
            return NONE;
        }
        HaltPoint p = parse(source, value, catalog, actor);
        log.warn("FAULT INJECTION ON: {}={} — this coordinator halts its own process (exit {}) at {}, once per "
                + "migration per catalog; a test hook, never for production", source, value, EXIT, p.describe());
        return p;
    }

    /** Parses {@code POINT[:N][,…]}; a bad value is refused naming the setting and the valid points. */
    public static HaltPoint parse(String source, String value, Catalog catalog, String actor) {
        List<Arm> arms = new ArrayList<>();
        for (String one : value.split(",")) {
            arms.add(arm(source, value, one));
        }
        return new HaltPoint(List.copyOf(arms), catalog, actor);
    }

    private static Arm arm(String source, String value, String one) {
        String v = one.strip().toLowerCase(Locale.ROOT);
        int colon = v.lastIndexOf(':');
        int nth = 1;
        if (colon >= 0) {
            try {
                nth = Integer.parseInt(v.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw invalid(source, value, "N after ':' must be a whole number");
            }
            if (nth < 1) {
                throw invalid(source, value, "N after ':' must be at least 1");
            }
            v = v.substring(0, colon);
        }
        for (Kind k : Kind.values()) {
            if (k == Kind.PHASE && v.startsWith(k.label)) {
                try {
                    return new Arm(k, Phase.fromLabel(v.substring(k.label.length())), nth, new AtomicInteger());
                } catch (IllegalArgumentException | ShapeshiftException e) {
                    throw invalid(source, value, "unknown phase '" + v.substring(k.label.length()) + "'");
                }
            }
            if (k != Kind.PHASE && v.equals(k.label)) {
                return new Arm(k, null, nth, new AtomicInteger());
            }
        }
        throw invalid(source, value, "unknown point '" + v + "'");
    }

    /** Whether a point is set. */
    public boolean armed() {
        return !arms.isEmpty();
    }

    /** Halts the process if {@code at} is an armed point reached for the N-th time, and not yet halted at for this migration. */
    void reached(Kind at, String migration) {
        check(at, null, migration);
    }

    /** The same for {@code phase-<p>}: the driver is about to take a step for the migration in phase {@code p}. */
    void inPhase(Phase p, String migration) {
        check(Kind.PHASE, p, migration);
    }

    private void check(Kind at, Phase phase, String migration) {
        for (Arm arm : arms) {
            if (arm.kind() == at && arm.phase() == phase && arm.reached().incrementAndGet() == arm.nth()) {
                halt(arm, migration);
            }
        }
    }

    private void halt(Arm arm, String migration) {
        String action = AUDIT_ACTION + arm.describe();
        boolean first = catalog.inTransaction("recording a fault injection", c -> {
            return Sql.update(c, "INSERT INTO shapeshift.audit (migration, actor, action, reason) "
                    + "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM shapeshift.audit WHERE migration = ? AND action = ?)",
                    migration, actor, action,
                    "test hook " + PROPERTY + ": the coordinator process halts now (exit " + EXIT + ")", migration,
                    action) == 1;
        });
        if (!first) {
            log.info("fault injection point passed: a coordinator already halted here migration={} point={}", migration,
                    arm.describe());
            return;
        }
        log.error("FAULT INJECTION: halting the coordinator process now (exit {}) at {} migration={}", EXIT, arm.describe(),
                migration);
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(EXIT);
    }

    String describe() {
        return arms.isEmpty() ? "nothing" : arms.stream().map(Arm::describe).collect(Collectors.joining(","));
    }

    private static ShapeshiftException invalid(String source, String value, String why) {
        String points = Arrays.stream(Kind.values()).map(k -> k == Kind.PHASE ? "phase-<phase>" : k.label)
                .collect(Collectors.joining(", "));
        return new ShapeshiftException(ErrorCode.CONFIG_INVALID, source + "=" + value + ": " + why + "; expected "
                + "POINT[:N][,POINT[:N]…] with POINT one of " + points + " (e.g. plan-stored, reconcile-range:2, "
                + "phase-reads-switched), or unset it (the fault-injection hook is for tests only)");
    }
}
