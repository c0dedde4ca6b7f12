package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.contract.AccessReport;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.contract.CodeEvidence;
import dev.shapeshift.coordinator.contract.EvidenceJson;
import dev.shapeshift.coordinator.gate.Check;
import java.io.PrintWriter;
import java.util.List;
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
        List<Check> checks = new java.util.ArrayList<>(AccessGate.evidence(r));
        // After the write switch: applications still writing the old shape (change stream, statements).
        dev.shapeshift.coordinator.writes.OldShapeWrites.checkNow(db.database(), migration).ifPresent(checks::add);
        PrintWriter out = command.commandLine().getOut();
        if (output.json()) {
            out.println(OutputFormat.json(EvidenceJson.of(r, checks)));
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
            if (!r.replicas().isEmpty()) {
                out.println("read replicas (" + r.replicas().size() + "):");
                r.replicas().forEach(x -> out.println("  " + x.name() + " (" + x.url() + "): " + (x.problem() != null
                        ? "PROBLEM " + x.problem() : "watched since " + x.baselineAt() + ", " + x.offenders().size()
                        + " offending statement(s)")));
                r.replicas().forEach(x -> x.offenders().forEach(st -> out.println("  on " + x.name() + ": " + line(st))));
            }
            if (r.brownoutWindow() != null) {
                out.println("brownout (contract.brownout: " + dev.shapeshift.spec.DurationText.format(r.brownoutWindow())
                        + "): " + (r.brownout() == null ? "none yet" : r.brownout().summary()));
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
