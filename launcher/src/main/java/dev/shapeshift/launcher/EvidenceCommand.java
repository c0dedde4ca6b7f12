package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.contract.AccessReport;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.contract.CodeEvidence;
import dev.shapeshift.coordinator.contract.EvidenceJson;
import dev.shapeshift.coordinator.gate.Check;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code shapeshift evidence MIGRATION [--output json]}: the contract gate's evidence, for change
 * review — one look of the access watch (the first look starts the watch), the checks the gates
 * decide on (with the contract's other-migrations), the offending statements, the readers, the read
 * counter, Shapeshift's own excluded statements, and the limits ({@link EvidenceText}).
 */
@Command(name = "evidence", mixinStandardHelpOptions = true,
        description = "Print the contract gate's evidence: who still touches the old shape.",
        subcommands = {EvidenceCommand.Ack.class})
public final class EvidenceCommand extends DbCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "MIGRATION", description = "The migration's name.")
    String migration;

    @Option(names = "--code", arity = "1..*", paramLabel = "DIR",
            description = "Also search these source trees for the old shape's identifiers (besides contract.codeSearch).")
    List<String> code = new java.util.ArrayList<>();


    @Override
    public Integer call() {
        if (migration == null) {
            command.commandLine().usage(command.commandLine().getOut());
            return 0;
        }
        AccessWatch watch = new AccessWatch(db.database());
        AccessReport r = watch.evaluate(migration, code);
        List<Check> checks = new java.util.ArrayList<>(watch.checks(r));
        // After the write switch: applications still writing the old shape (change stream, statements).
        dev.shapeshift.coordinator.writes.OldShapeWrites.checkNow(db.database(), migration).ifPresent(checks::add);
        PrintWriter out = command.commandLine().getOut();
        if (output.json()) {
            out.println(OutputFormat.json(EvidenceJson.of(r, checks)));
        } else {
            EvidenceText.table(out, "", r, checks);
            EvidenceText.details(out, r);
        }
        out.flush();
        return checks.stream().allMatch(Check::passed) ? 0 : dev.shapeshift.error.ErrorCode.GATE_CLOSED.exitCode();
    }

    /**
     * {@code shapeshift evidence ack MIGRATION --file FILE[:LINE] --reason …}: a code search hit the
     * team has looked at and that does not use the old shape; stored in the catalog, audited.
     */
    @Command(name = "ack", mixinStandardHelpOptions = true,
            description = "Acknowledge code search hits in a file (or one line) that do not use the old shape.")
    static final class Ack extends AuditedCommand.OnMigration<AuditOptions.Required> {
        @Option(names = "--file", required = true, paramLabel = "FILE[:LINE]",
                description = "The file relative to the searched directory, as evidence prints it; :LINE for one line only.")
        String file;

        Ack() {
            super(new AuditOptions.Required());
        }

        @Override
        public Integer call() {
            CodeEvidence.Ack a = CodeEvidence.acknowledge(db.database(), migration, file, why.actor, why.reason());
            say("acknowledged " + (a.line() == 0 ? "every hit in " + a.file() : a.file() + ":" + a.line())
                    + " for " + migration + " by " + a.by() + ": " + a.reason());
            return 0;
        }
    }
}
