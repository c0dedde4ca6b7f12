package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.contract.Archive;
import dev.shapeshift.coordinator.contract.Contractor;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code shapeshift contract MIGRATION --reason R}: the soft contract, on the evidence of the
 * contract gate (no foreign access to the old shape for the quiet period); and
 * {@code shapeshift contract drop-archive MIGRATION}: the hard drop after the retention. See
 * docs/contract.md.
 */
@Command(name = "contract", mixinStandardHelpOptions = true,
        description = "Archive and drop the old shape of a contract-ready migration (the only irreversible phase move).",
        subcommands = {ContractCommand.DropArchive.class})
public final class ContractCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "MIGRATION", description = "The migration's name.")
    String migration;

    @Mixin
    DbOptions db = new DbOptions();

    @Mixin
    BackfillCommand.Why why = new BackfillCommand.Why();

    @Spec
    CommandSpec command;

    @Override
    public Integer call() {
        if (migration == null) {
            command.commandLine().usage(command.commandLine().getOut());
            return 0;
        }
        Database database = db.database();
        Optional<Archive> a = contractor(database).contract(migration, why.actor, why.reason);
        PrintWriter out = command.commandLine().getOut();
        out.println("contracted " + migration + ": " + a.map(ContractCommand::describe)
                .orElse("nothing archived (contract.dropTable is false)"));
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
    static final class DropArchive implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MIGRATION", description = "The migration's name.")
        String migration;

        @Option(names = "--force", description = "Drop before the retention has passed (needs --reason).")
        boolean force;

        @Mixin
        DbOptions db = new DbOptions();

        @Mixin
        BackfillCommand.Why why = new BackfillCommand.Why();

        @Spec
        CommandSpec command;

        @Override
        public Integer call() {
            Archive a = contractor(db.database()).dropArchive(migration, force, why.actor, why.reason);
            command.commandLine().getOut().println(migration + ": " + describe(a));
            command.commandLine().getOut().flush();
            return 0;
        }
    }

}
