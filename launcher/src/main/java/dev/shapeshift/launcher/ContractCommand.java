package dev.shapeshift.launcher;

import dev.shapeshift.json.JsonMaps;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.contract.Archive;
import dev.shapeshift.coordinator.contract.Contractor;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import java.io.PrintWriter;
import dev.shapeshift.coordinator.api.Json;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code shapeshift contract MIGRATION --reason R}: the soft contract, on the evidence of the
 * contract gate (no foreign access to the old shape for the quiet period); and
 * {@code shapeshift contract drop-archive MIGRATION}: the hard drop after the retention. See
 * docs/contract.md.
 */
@Command(name = "contract", mixinStandardHelpOptions = true,
        // --reason is required, but not as a picocli required option: that would also demand it of drop-archive
        customSynopsis = {"Usage: shapeshift contract MIGRATION --reason=TEXT [--actor=NAME] [--output=FORMAT] [DATABASE OPTIONS]",
                "       shapeshift contract drop-archive MIGRATION [--force --reason=TEXT] ..."},
        description = "Archive and drop the old shape of a contract-ready migration (the only irreversible phase move).",
        subcommands = {ContractCommand.DropArchive.class})
public final class ContractCommand extends DbCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "MIGRATION", description = "The migration's name.")
    String migration;

    @Mixin
    AuditOptions.Optional why = new AuditOptions.Optional();

    @Override
    public Integer call() {
        if (migration == null) {
            command.commandLine().usage(command.commandLine().getOut());
            return 0;
        }
        if (why.reason() == null) {
            throw new ParameterException(command.commandLine(), "Missing required option: '--reason=TEXT'");
        }
        Database database = db.database();
        Optional<Archive> a = contractor(database).contract(migration, why.actor, why.reason());
        PrintWriter out = command.commandLine().getOut();
        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("migration", migration);
            json.put("phase", "contracted");
            json.put("archive", a.orElse(null));
            out.println(Json.write(json));
        } else {
            out.println("contracted " + migration + ": " + a.map(ContractCommand::describe)
                    .orElse("nothing archived (contract.dropTable is false)"));
        }
        out.flush();
        return 0;
    }

    static Contractor contractor(Database database) {
        Transitions transitions = GateWiring.transitions(database, "cli");
        return new Contractor(database, transitions);
    }

    static String describe(Archive a) {
        String where = "\"" + Archive.SCHEMA + "\".\"" + a.archiveTable() + "\"";
        if (a.droppedAt() != null) {
            return "archive " + where + " dropped at " + a.droppedAt() + " by " + a.droppedBy();
        }
        return (a.inPlace() ? "old columns " + a.columns().stream().map(Archive.ArchivedColumn::name).toList()
                + " archived with the key in " : "old table moved to ") + where + ", restorable until dropped; retained until "
                + a.retainUntil() + (a.restoredAt() == null ? "" : "; restored at " + a.restoredAt());
    }

    @Command(name = "drop-archive", mixinStandardHelpOptions = true,
            description = "Drop the archived old shape for good (after contract.retention; earlier only with --force --reason).")
    static final class DropArchive extends DbCommand.OnMigration implements Callable<Integer> {

        @Option(names = "--force", description = "Drop before the retention has passed (needs --reason).")
        boolean force;

        @Mixin
        AuditOptions.Optional why = new AuditOptions.Optional();

        @Override
        public Integer call() {
            Archive a = contractor(db.database()).dropArchive(migration, force, why.actor, why.reason());
            command.commandLine().getOut().println(output.json() ? Json.write(JsonMaps.ordered("migration", migration, "archive", a))
                    : migration + ": " + describe(a));
            command.commandLine().getOut().flush();
            return 0;
        }
    }

}
