package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.contract.AccessReport;
import dev.shapeshift.coordinator.contract.CodeEvidence;
import dev.shapeshift.coordinator.contract.ReadCounter;
import dev.shapeshift.coordinator.gate.Check;
import java.io.PrintWriter;
import java.util.List;

/**
 * The contract evidence as text, one code path for {@code shapeshift evidence} and the demo's
 * contract step: {@link #table} is one line per evidence source that applies to the migration
 * (its check, PASS or FAIL, what it saw) and the readers by identity; {@link #details} the rest.
 */
public final class EvidenceText {
    private EvidenceText() {
    }

    /** The header, one line per check with the evidence source behind it, and the readers by identity. */
    public static void table(PrintWriter out, String indent, AccessReport r, List<Check> checks) {
        if (r.nothingWatched()) {
            out.println(indent + "evidence for " + r.migration() + ": " + r.dropsNothing() + " (looked at "
                    + r.evaluatedAt() + ")");
        } else {
            out.println(indent + "evidence for " + r.migration() + ": watching " + r.watched()
                    + (r.dropsNothing() == null ? "" : " for writes only — " + r.dropsNothing())
                    + " since " + r.baselineAt() + ", looked at " + r.evaluatedAt());
        }
        for (Check c : checks) {
            out.println(indent + "  " + (c.passed() ? "PASS " : "FAIL ") + c.name() + " [" + source(c.name()) + "]: "
                    + c.evidence());
        }
        out.println(indent + "readers of the old shape, by identity (" + r.readers().size() + "; every one since the "
                + "watch started, the quiet period or not):");
        r.readers().forEach(x -> out.println(indent + "  " + x.identity() + ": last seen " + x.lastSeen() + " (first "
                + x.firstSeen() + "): " + x.lastQuery()));
        out.flush();
    }

    /** Where a check's evidence comes from, for people. */
    static String source(String check) {
        return switch (check) {
            case "old-shape-quiet" -> "pg_stat_statements and sessions";
            case "old-shape-dependents" -> "views, rules, functions";
            case "old-shape-code" -> "code search";
            case "replica-quiet" -> "read replicas";
            case "read-counter" -> "read counter on the old table";
            case "old-table-writes" -> "old table's write counters";
            case "brownout" -> "brownout, server log";
            case "other-migrations" -> "other live migrations";
            case "access-evidence" -> "pg_stat_statements";
            default -> check;
        };
    }

    /** Everything behind the checks: statements, dependents, what was excluded, code, replicas, counter, brownout, notes. */
    public static void details(PrintWriter out, AccessReport r) {
        out.println("offending statements (" + r.offenders().size() + "):");
        r.offenders().forEach(s -> out.println("  " + line(s)));
        out.println("views, rules, functions using the old shape (" + r.dependents().size() + "):");
        r.dependents().forEach(d -> out.println("  " + d.name() + " (" + d.kind() + "): " + d.how()));
        out.println("Shapeshift's own, excluded (" + r.excluded().size() + "):");
        r.excluded().forEach(s -> out.println("  " + line(s)));
        if (r.code() != null) {
            CodeEvidence c = r.code();
            out.println("code naming " + c.names() + " in " + c.roots() + " (" + c.open().size() + " open, "
                    + c.acknowledged().size() + " acknowledged):");
            c.problems().forEach(p -> out.println("  PROBLEM " + p));
            c.open().forEach(h -> out.println("  " + h.where() + ": " + h.text()));
            c.acknowledged().forEach(a -> out.println("  acknowledged " + a.hit().where() + ": " + a.hit().text()
                    + " — " + a.reason() + " (" + a.by() + ")"));
        }
        if (!r.replicas().isEmpty()) {
            out.println("read replicas (" + r.replicas().size() + "):");
            r.replicas().forEach(x -> out.println("  " + x.name() + " (" + x.url() + "): " + (x.problem() != null
                    ? "PROBLEM " + x.problem() : "watched since " + x.baselineAt() + ", " + x.offenders().size()
                    + " offending statement(s)")));
            r.replicas().forEach(x -> x.offenders().forEach(st -> out.println("  on " + x.name() + ": " + line(st))));
        }
        ReadCounter.Evidence k = r.readCounter();
        if (k != null) {
            if (k.lost() != null) {
                out.println("read counter: " + k.lost());
            }
            out.println("read counter on " + k.table() + " (" + (k.removedAt() == null ? "counting since " + k.countingSince()
                    : "counted from " + k.installedAt() + " to " + k.removedAt() + ", " + k.removedWhy()) + "; "
                    + k.identities().size() + " identit" + (k.identities().size() == 1 ? "y" : "ies") + "):");
            k.identities().forEach(x -> out.println("  " + x.identity() + (x.shapeshift() ? " (Shapeshift's own)" : "")
                    + ": " + x.reads() + " read(s), " + x.writes() + " write(s), first " + x.firstAt() + ", last "
                    + x.lastAt()));
        }
        if (r.brownoutWindow() != null) {
            out.println("brownout (contract.brownout: " + dev.shapeshift.spec.DurationText.format(r.brownoutWindow())
                    + "): " + (r.brownout() == null ? "none yet" : r.brownout().summary()));
        }
        out.println("exclusion: " + r.exclusion());
        r.notes().forEach(n -> out.println("note: " + n));
        out.flush();
    }

    private static String line(AccessReport.Statement s) {
        return s.calls() + " calls (" + s.callsSinceBaseline() + " since baseline), last seen " + s.lastSeen()
                + ", role " + s.role() + ": " + s.query().replaceAll("\\s+", " ");
    }
}
