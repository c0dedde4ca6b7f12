package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.contract.AccessReport;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.gate.Check;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code shapeshift evidence MIGRATION [--output json]}: the contract gate's evidence, for change
 * review — one look of the access watch (the first look starts the watch), the checks the gate
 * decides on, the offending statements, Shapeshift's own excluded statements, and the limits.
 */
@Command(name = "evidence", mixinStandardHelpOptions = true,
        description = "Print the contract gate's evidence: who still touches the old shape.")
public final class EvidenceCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MIGRATION", description = "The migration's name.")
    String migration;

    @Mixin
    DbOptions db = new DbOptions();

    @Mixin
    OutputOptions output = new OutputOptions();

    @Spec
    CommandSpec command;

    @Override
    public Integer call() {
        AccessReport r = new AccessWatch(db.database()).evaluate(migration);
        List<Check> checks = AccessGate.checks(r);
        PrintWriter out = command.commandLine().getOut();
        if (output.json()) {
            out.println(OutputFormat.json(json(r, checks)));
        } else {
            out.println("evidence for " + migration + ": watching " + r.watched() + " since " + r.baselineAt()
                    + ", looked at " + r.evaluatedAt());
            for (Check c : checks) {
                out.println((c.passed() ? "  PASS " : "  FAIL ") + c.name() + ": " + c.evidence());
            }
            out.println("offending statements (" + r.offenders().size() + "):");
            r.offenders().forEach(s -> out.println("  " + line(s)));
            out.println("Shapeshift's own, excluded (" + r.excluded().size() + "):");
            r.excluded().forEach(s -> out.println("  " + line(s)));
            out.println("exclusion: " + r.exclusion());
            r.notes().forEach(n -> out.println("note: " + n));
        }
        out.flush();
        return checks.stream().allMatch(Check::passed) ? 0 : dev.shapeshift.error.ErrorCode.GATE_CLOSED.exitCode();
    }

    private static String line(AccessReport.Statement s) {
        return s.calls() + " calls (" + s.callsSinceBaseline() + " since baseline), last seen " + s.lastSeen()
                + ", role " + s.role() + ": " + s.query().replaceAll("\\s+", " ");
    }

    private static Map<String, Object> json(AccessReport r, List<Check> checks) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("migration", r.migration());
        m.put("watched", r.watched());
        m.put("baselineAt", String.valueOf(r.baselineAt()));
        m.put("evaluatedAt", String.valueOf(r.evaluatedAt()));
        m.put("quietSince", String.valueOf(r.quietSince()));
        m.put("quietForSeconds", r.quietFor().toMillis() / 1000.0);
        m.put("quietPeriodSeconds", r.quietPeriod().toSeconds());
        m.put("quiet", r.quiet());
        m.put("problem", r.problem());
        m.put("checks", checks.stream().map(c -> Map.of("name", c.name(), "passed", c.passed(), "evidence", c.evidence())).toList());
        m.put("offenders", r.offenders().stream().map(EvidenceCommand::statement).toList());
        m.put("excluded", r.excluded().stream().map(EvidenceCommand::statement).toList());
        if (r.table() != null) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("writes", r.table().writes());
            t.put("reads", r.table().reads());
            t.put("writesSeenAt", String.valueOf(r.table().writesSeenAt()));
            m.put("table", t);
        }
        m.put("exclusion", r.exclusion());
        m.put("notes", r.notes());
        return m;
    }

    private static Map<String, Object> statement(AccessReport.Statement s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("queryId", s.queryId());
        m.put("role", s.role());
        m.put("query", s.query());
        m.put("calls", s.calls());
        m.put("callsSinceBaseline", s.callsSinceBaseline());
        m.put("lastSeen", String.valueOf(s.lastSeen()));
        m.put("why", s.why());
        return m;
    }
}
