package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.contract.AccessReport;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.contract.CodeEvidence;
import dev.shapeshift.coordinator.contract.CodeSearch;
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
        description = "Print the contract gate's evidence: who still touches the old shape.",
        subcommands = {EvidenceCommand.Ack.class})
public final class EvidenceCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "MIGRATION", description = "The migration's name.")
    String migration;

    @Option(names = "--code", arity = "1..*", paramLabel = "DIR",
            description = "Also search these source trees for the old shape's identifiers (besides contract.codeSearch).")
    List<String> code = new java.util.ArrayList<>();

    @Mixin
    DbOptions db = new DbOptions();

    @Mixin
    OutputOptions output = new OutputOptions();

    @Spec
    CommandSpec command;

    @Override
    public Integer call() {
        if (migration == null) {
            command.commandLine().usage(command.commandLine().getOut());
            return 0;
        }
        AccessReport r = new AccessWatch(db.database()).evaluate(migration, code);
        List<Check> checks = AccessGate.checks(r);
        PrintWriter out = command.commandLine().getOut();
        if (output.json()) {
            out.println(OutputFormat.json(json(r, checks)));
        } else {
            if (r.nothingWatched()) {
                out.println("evidence for " + migration + ": " + r.dropsNothing() + " (looked at " + r.evaluatedAt() + ")");
            } else {
                out.println("evidence for " + migration + ": watching " + r.watched()
                        + (r.dropsNothing() == null ? "" : " for writes only — " + r.dropsNothing())
                        + " since " + r.baselineAt() + ", looked at " + r.evaluatedAt());
            }
            for (Check c : checks) {
                out.println((c.passed() ? "  PASS " : "  FAIL ") + c.name() + ": " + c.evidence());
            }
            out.println("offending statements (" + r.offenders().size() + "):");
            r.offenders().forEach(s -> out.println("  " + line(s)));
            out.println("readers of the old shape, by identity (" + r.readers().size() + "; every one since the watch "
                    + "started, the quiet period or not):");
            r.readers().forEach(x -> out.println("  " + x.identity() + ": last seen " + x.lastSeen() + " (first "
                    + x.firstSeen() + "): " + x.lastQuery()));
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
        m.put("dropsNothing", r.dropsNothing());
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
        m.put("readers", r.readers().stream().map(x -> {
            Map<String, Object> rd = new LinkedHashMap<>();
            rd.put("role", x.role());
            rd.put("applicationName", x.applicationName());
            rd.put("clientAddr", x.clientAddr());
            rd.put("firstSeen", x.firstSeen().toString());
            rd.put("lastSeen", x.lastSeen().toString());
            rd.put("lastQuery", x.lastQuery());
            return rd;
        }).toList());
        m.put("dependents", r.dependents().stream().map(d -> Map.of("name", d.name(), "kind", d.kind(), "how", d.how())).toList());
        if (r.table() != null) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("writes", r.table().writes());
            t.put("reads", r.table().reads());
            t.put("writesSeenAt", String.valueOf(r.table().writesSeenAt()));
            m.put("table", t);
        }
        if (r.code() != null) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("roots", r.code().roots());
            c.put("names", r.code().names());
            c.put("open", r.code().open().stream().map(EvidenceCommand::hit).toList());
            c.put("acknowledged", r.code().acknowledged().stream().map(a -> {
                Map<String, Object> h = hit(a.hit());
                h.put("reason", a.reason());
                h.put("by", a.by());
                return h;
            }).toList());
            c.put("problems", r.code().problems());
            m.put("code", c);
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

    private static Map<String, Object> hit(CodeSearch.Hit h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("root", h.root());
        m.put("file", h.file());
        m.put("line", h.line());
        m.put("identifier", h.identifier());
        m.put("text", h.text());
        return m;
    }

    /**
     * {@code shapeshift evidence ack MIGRATION --file FILE[:LINE] --reason …}: a code search hit the
     * team has looked at and that does not use the old shape; stored in the catalog, audited.
     */
    @Command(name = "ack", mixinStandardHelpOptions = true,
            description = "Acknowledge code search hits in a file (or one line) that do not use the old shape.")
    static final class Ack implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MIGRATION", description = "The migration's name.")
        String migration;

        @Option(names = "--file", required = true, paramLabel = "FILE[:LINE]",
                description = "The file relative to the searched directory, as evidence prints it; :LINE for one line only.")
        String file;

        @Mixin
        DbOptions db = new DbOptions();

        @Mixin
        AuditOptions.Required why = new AuditOptions.Required();

        @Spec
        CommandSpec command;

        @Override
        public Integer call() {
            CodeEvidence.Ack a = CodeEvidence.acknowledge(db.database(), migration, file, why.actor, why.reason());
            PrintWriter out = command.commandLine().getOut();
            out.println("acknowledged " + (a.line() == 0 ? "every hit in " + a.file() : a.file() + ":" + a.line())
                    + " for " + migration + " by " + a.by() + ": " + a.reason());
            out.flush();
            return 0;
        }
    }
}
