package dev.shapeshift.coordinator.contract;

import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.coordinator.gate.ContractGate;
import dev.shapeshift.coordinator.gate.Evidence;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.spec.DurationText;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The contract gates on evidence from the database: {@code contract-ready} and {@code contracted}
 * both need zero foreign access to the old shape for {@code contract.quietPeriod}, as seen by the
 * {@link AccessWatch} (one look per evaluation). A closed gate names the offending statements.
 * Install it with {@code new Gates(new AccessGate(new AccessWatch(db)))}.
 */
public final class AccessGate implements ContractGate {
    private static final int SHOWN = 5;
    private final AccessWatch watch;

    public AccessGate(AccessWatch watch) {
        this.watch = watch;
    }

    @Override
    public List<Check> contractReady(Evidence e) {
        return checks(watch.evaluate(e.migration()));
    }

    /** The contract itself also needs the brownout to have passed, when the spec asks for one. */
    @Override
    public List<Check> contract(Evidence e) {
        AccessReport r = watch.evaluate(e.migration());
        List<Check> out = new ArrayList<>(checks(r));
        brownout(r).ifPresent(out::add);
        out.add(watch.otherReaders(e.migration()));
        return out;
    }

    /** Every check the contract needs, for people ({@code shapeshift evidence}, the API): the gate's checks and the brownout. */
    public static List<Check> evidence(AccessReport r) {
        List<Check> out = new ArrayList<>(checks(r));
        brownout(r).ifPresent(out::add);
        return out;
    }

    /**
     * The {@code brownout} check of the {@code contracted} gate, when the spec has
     * {@code contract.brownout}: passes once a brownout since the migration became
     * {@code contract-ready} ended its whole window with no failed statement of others.
     */
    public static java.util.Optional<Check> brownout(AccessReport r) {
        if (r.brownoutWindow() == null || r.dropsNothing() != null || r.problem() != null) {
            return java.util.Optional.empty();
        }
        BrownoutReport b = r.brownout();
        if (b == null) {
            return java.util.Optional.of(Check.fail("brownout", "no brownout yet (contract.brownout: "
                    + DurationText.format(r.brownoutWindow()) + "): the driver runs one in contract-ready once every "
                    + "other contract check passes"));
        }
        return java.util.Optional.of(switch (b.status()) {
            case PASSED -> Check.pass("brownout", b.summary());
            case RUNNING -> Check.fail("brownout", b.summary());
            case FAILED, ABORTED -> Check.fail("brownout", b.summary() + "; the driver starts another one a quiet period ("
                    + DurationText.format(r.quietPeriod()) + ") after it ended");
        });
    }

    /** The checks for one report; pure, so {@code shapeshift evidence} prints exactly what the gate decides on. */
    public static List<Check> checks(AccessReport r) {
        List<Check> out = new ArrayList<>();
        if (r.problem() != null) {
            out.add(Check.fail("access-evidence", r.problem()));
            dependents(r, out);
            code(r, out);
            return out;
        }
        String period = DurationText.format(r.quietPeriod());
        if (r.nothingWatched()) {
            out.add(Check.pass("old-shape-quiet", r.dropsNothing()));
        } else if (r.dropsNothing() != null && r.offenders().isEmpty()) {
            out.add(Check.of("old-shape-quiet", r.quiet(), r.dropsNothing() + "; no writes by others for "
                    + Gates.format(r.quietFor()) + " of " + period + " quiet period (watching since " + r.baselineAt() + ")"));
        } else if (r.offenders().isEmpty() && !recentReaders(r).isEmpty()) {
            out.add(Check.fail("old-shape-quiet", "sessions of others touched " + r.watched() + " within the " + period
                    + " quiet period: " + readers(r)));
        } else if (r.offenders().isEmpty()) {
            out.add(Check.of("old-shape-quiet", r.quiet(), r.watched() + " untouched by others for "
                    + Gates.format(r.quietFor()) + " of " + period + " quiet period (watching since " + r.baselineAt()
                    + "; " + r.excluded().size() + " statement(s) of Shapeshift's own excluded)"));
        } else {
            String shown = r.offenders().stream().limit(SHOWN).map(AccessGate::describe).collect(Collectors.joining("; "));
            out.add(Check.fail("old-shape-quiet", r.offenders().size() + " statement(s) of others "
                    + (r.dropsNothing() == null ? "touched " + r.watched() : "wrote " + r.watched() + " (" + r.dropsNothing() + ")")
                    + " within the " + period + " quiet period: " + shown
                    + (r.offenders().size() > SHOWN ? "; …" : "")
                    + (recentReaders(r).isEmpty() ? "" : "; readers: " + readers(r))));
        }
        dependents(r, out);
        code(r, out);
        replicas(r, out);
        readCounter(r, out);
        if (r.table() != null && r.table().writesSeenAt() != null) {
            boolean old = r.table().writesSeenAt().isBefore(r.evaluatedAt().minus(r.quietPeriod()));
            out.add(Check.of("old-table-writes", old, "old table last written at " + r.table().writesSeenAt()
                    + " (n_tup_ins + n_tup_upd + n_tup_del = " + r.table().writes() + ")"));
        }
        return out;
    }

    /** The identities seen within the quiet period. */
    static List<AccessReport.Reader> recentReaders(AccessReport r) {
        return r.readers().stream().filter(x -> !x.lastSeen().isBefore(r.evaluatedAt().minus(r.quietPeriod()))).toList();
    }

    private static String readers(AccessReport r) {
        List<AccessReport.Reader> recent = recentReaders(r);
        return recent.stream().limit(SHOWN).map(x -> x.identity() + " last seen " + x.lastSeen())
                .collect(Collectors.joining("; ")) + (recent.size() > SHOWN ? "; …" : "");
    }

    /** {@code replica-quiet}: every configured replica readable, watched for a whole quiet period, no foreign statement within it. */
    private static void replicas(AccessReport r, List<Check> out) {
        if (r.replicas().isEmpty()) {
            return;
        }
        List<String> closed = new ArrayList<>();
        List<String> open = new ArrayList<>();
        for (AccessReport.ReplicaEvidence x : r.replicas()) {
            if (x.problem() != null) {
                closed.add("replica " + x.name() + " (" + x.url() + "): " + x.problem());
            } else if (!x.offenders().isEmpty()) {
                closed.add("replica " + x.name() + ": " + x.offenders().size() + " statement(s) of others touched "
                        + r.watched() + " within the " + DurationText.format(r.quietPeriod()) + " quiet period: "
                        + x.offenders().stream().limit(SHOWN).map(AccessGate::describe).collect(Collectors.joining("; ")));
            } else if (x.baselineAt().isAfter(r.evaluatedAt().minus(r.quietPeriod()))) {
                closed.add("replica " + x.name() + " watched for " + Gates.format(java.time.Duration.between(x.baselineAt(),
                        r.evaluatedAt())) + " of the " + DurationText.format(r.quietPeriod()) + " quiet period (since "
                        + x.baselineAt() + ")");
            } else {
                open.add(x.name());
            }
        }
        out.add(closed.isEmpty()
                ? Check.pass("replica-quiet", "no statement of others touched " + r.watched() + " on replica(s) " + open
                        + " for the " + DurationText.format(r.quietPeriod()) + " quiet period")
                : Check.fail("replica-quiet", String.join("; ", closed)));
    }

    /**
     * {@code read-counter} (table mode, once the write switch installed the counter): no statement
     * of others counted on the old table within the quiet period (only writes when the spec drops
     * nothing), and, while it counts, counting for a whole quiet period.
     */
    private static void readCounter(AccessReport r, List<Check> out) {
        ReadCounter.Evidence e = r.readCounter();
        if (e == null) {
            return;
        }
        java.time.Instant from = r.evaluatedAt().minus(r.quietPeriod());
        String period = DurationText.format(r.quietPeriod());
        boolean writesOnly = r.dropsNothing() != null;
        List<ReadCounter.Counted> recent = ReadCounter.gated(e, writesOnly).stream()
                .filter(x -> !x.lastAt().isBefore(from)).toList();
        long ours = e.identities().stream().filter(ReadCounter.Counted::shapeshift).mapToLong(x -> x.reads() + x.writes()).sum();
        if (!recent.isEmpty()) {
            out.add(Check.fail("read-counter", recent.size() + " identit" + (recent.size() == 1 ? "y" : "ies")
                    + " of others " + (writesOnly ? "wrote " : "read or wrote ") + e.table() + " within the " + period
                    + " quiet period: " + recent.stream().limit(SHOWN).map(x -> x.identity() + ": " + x.reads()
                    + " read(s), " + x.writes() + " write(s), last at " + x.lastAt()).collect(Collectors.joining("; "))
                    + (recent.size() > SHOWN ? "; …" : "")));
        } else if (e.removedAt() == null && e.countingSince().isAfter(from)) {
            out.add(Check.fail("read-counter", "counting statements on " + e.table() + " for "
                    + Gates.format(java.time.Duration.between(e.countingSince(), r.evaluatedAt())) + " of the " + period
                    + " quiet period (since " + e.countingSince() + "); none of others so far"
                    + (e.lost() == null ? "" : "; " + e.lost())));
        } else {
            out.add(Check.pass("read-counter", "no statement of others " + (writesOnly ? "wrote " : "on ") + e.table()
                    + " counted within the " + period + " quiet period ("
                    + (e.removedAt() == null ? "counting since " + e.countingSince()
                    : "counted from " + e.installedAt() + " to " + e.removedAt() + ", " + e.removedWhy())
                    + "; " + ours + " of Shapeshift's own)"));
        }
    }

    private static void code(AccessReport r, List<Check> out) {
        CodeEvidence code = r.code();
        if (code == null) {
            return;
        }
        String searched = code.names() + " in " + code.roots();
        if (!code.problems().isEmpty()) {
            out.add(Check.fail("old-shape-code", "code search of " + searched + " incomplete: "
                    + String.join("; ", code.problems())));
        } else if (code.open().isEmpty()) {
            out.add(Check.pass("old-shape-code", "no open hit for " + searched + " (" + code.acknowledged().size()
                    + " acknowledged)"));
        } else {
            out.add(Check.fail("old-shape-code", code.open().size() + " place(s) in the code name " + searched + ": "
                    + code.open().stream().limit(SHOWN).map(h -> h.where() + " [" + h.text() + "]")
                    .collect(Collectors.joining("; ")) + (code.open().size() > SHOWN ? "; …" : "")
                    + " — change them, or acknowledge with shapeshift evidence ack " + r.migration()
                    + " --file FILE[:LINE] --reason …"));
        }
    }

    private static void dependents(AccessReport r, List<Check> out) {
        if (r.nothingWatched()) {
            return;
        }
        if (r.dependents().isEmpty()) {
            out.add(Check.pass("old-shape-dependents", "no view, rule or function uses " + r.watched()));
        } else {
            out.add(Check.fail("old-shape-dependents", r.dependents().size() + " database object(s) use "
                    + r.watched() + ": " + r.dependents().stream().limit(SHOWN)
                    .map(d -> d.name() + " (" + d.kind() + ", " + d.how() + ")").collect(Collectors.joining("; "))
                    + (r.dependents().size() > SHOWN ? "; …" : "")
                    + " — change or drop them first (the contract would break them)"));
        }
    }

    static String describe(AccessReport.Statement s) {
        String q = s.query().replaceAll("\\s+", " ").strip();
        if (q.length() > 160) {
            q = q.substring(0, 157) + "...";
        }
        return "[" + q + "] role " + s.role() + ", " + s.callsSinceBaseline() + " call(s) since the baseline, "
                + "last seen " + s.lastSeen() + " (" + s.why() + ")";
    }
}
