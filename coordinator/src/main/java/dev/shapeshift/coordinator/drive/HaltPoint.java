package dev.shapeshift.coordinator.drive;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fault-injection hook for crash tests, <b>off by default</b>: with the system property
 * {@value #PROPERTY} (or the environment variable {@value #ENV}) set to {@code POINT[:N]}, the
 * coordinator process halts — {@code Runtime.halt(137)}: no shutdown hook, no cleanup, the same as
 * SIGKILL — the N-th time (default 1) its driver reaches {@code POINT}. Read once when the driver
 * starts, logged at WARN then. It lets a test kill the coordinator exactly at a step boundary,
 * including inside a step (between the plan's commit and the publication of its tasks, between
 * two reconcile ranges), where a kill from outside timed on the catalog could not land reliably.
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

    /** No halt point: the production setting. */
    public static final HaltPoint NONE = new HaltPoint(null, null, 0);

    /** Where the driver can halt. */
    public enum Kind {
        /** The expand's DDL committed; the phase is still {@code planned} (no move, no topics yet). */
        EXPAND_DDL("expand-ddl"),
        /** The chunk plan committed; no chunk task published and the phase not moved to {@code backfilling}. */
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

    private final Kind kind;
    private final Phase phase;
    private final int nth;
    private final AtomicInteger reached = new AtomicInteger();

    private HaltPoint(Kind kind, Phase phase, int nth) {
        this.kind = kind;
        this.phase = phase;
        this.nth = nth;
    }

    /** The point set by {@value #PROPERTY} or {@value #ENV}, else {@link #NONE}; logs it loudly when set. */
    public static HaltPoint fromEnvironment() {
        String value = System.getProperty(PROPERTY);
        String source = PROPERTY;
        if (value == null || value.isBlank()) {
            value = System.getenv(ENV);
            source = ENV;
        }
        if (value == null || value.isBlank()) {
            return NONE;
        }
        HaltPoint p = parse(source, value);
        log.warn("FAULT INJECTION ON: {}={} — this coordinator halts its own process (exit {}) the {} time its driver "
                + "reaches {}; a test hook, never for production", source, value, EXIT, ordinal(p.nth), p.describe());
        return p;
    }

    /** Parses {@code POINT[:N]}; a bad value is refused naming the setting and the valid points. */
    public static HaltPoint parse(String source, String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
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
                    return new HaltPoint(k, Phase.fromLabel(v.substring(k.label.length())), nth);
                } catch (IllegalArgumentException | ShapeshiftException e) {
                    throw invalid(source, value, "unknown phase '" + v.substring(k.label.length()) + "'");
                }
            }
            if (k != Kind.PHASE && v.equals(k.label)) {
                return new HaltPoint(k, null, nth);
            }
        }
        throw invalid(source, value, "unknown point");
    }

    /** Whether a point is set. */
    public boolean armed() {
        return kind != null;
    }

    /** Halts the process if this is the configured point, reached for the N-th time. */
    void reached(Kind at, String migration) {
        if (at == kind && at != Kind.PHASE && reached.incrementAndGet() == nth) {
            halt(migration);
        }
    }

    /** Halts the process if the configured point is {@code phase-<p>}, reached for the N-th time. */
    void inPhase(Phase p, String migration) {
        if (kind == Kind.PHASE && p == phase && reached.incrementAndGet() == nth) {
            halt(migration);
        }
    }

    private void halt(String migration) {
        log.error("FAULT INJECTION: halting the coordinator process now (exit {}) at {} migration={}", EXIT, describe(),
                migration);
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(EXIT);
    }

    String describe() {
        return kind == null ? "nothing" : kind == Kind.PHASE ? kind.label + phase.label() : kind.label;
    }

    private static String ordinal(int n) {
        return n + (n % 100 >= 11 && n % 100 <= 13 ? "th" : Map.of(1, "st", 2, "nd", 3, "rd").getOrDefault(n % 10, "th"));
    }

    private static ShapeshiftException invalid(String source, String value, String why) {
        String points = Arrays.stream(Kind.values()).map(k -> k == Kind.PHASE ? "phase-<phase>" : k.label)
                .collect(Collectors.joining(", "));
        return new ShapeshiftException(ErrorCode.SPEC_INVALID, source + "=" + value + ": " + why + "; expected POINT[:N] "
                + "with POINT one of " + points + " (e.g. plan-stored, reconcile-range:2, phase-reads-switched), "
                + "or unset it (the fault-injection hook is for tests only)");
    }
}
