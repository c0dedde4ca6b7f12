package dev.shapeshift.launcher;

import dev.shapeshift.json.JsonMaps;
import dev.shapeshift.coordinator.contract.Archive;
import dev.shapeshift.coordinator.api.Json;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shapeshift restore MIGRATION --reason R}: puts a contracted migration's old shape back
 * from its archive (in-place: re-adds the columns, refills them in checkpointed chunks — printing
 * each — and recreates their NOT NULL, indexes and constraints; run again, it continues where it
 * stopped; table mode: moves the table back), while the archive exists. Audited. See docs/contract.md.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Put a contracted migration's old columns or table back from its archive.")
public final class RestoreCommand extends DbCommand.OnMigration implements Callable<Integer> {

    @Mixin
    AuditOptions.Required why = new AuditOptions.Required();

    @Option(names = "--chunk-rows", paramLabel = "N", defaultValue = "5000",
            description = "Archive rows refilled per transaction (in-place; default: ${DEFAULT-VALUE}).")
    int chunkRows;

    @Override
    public Integer call() {
        var out = command.commandLine().getOut();
        Archive a = ContractCommand.contractor(db.database()).restore(migration, why.actor, why.reason(), chunkRows, p -> {
            if (!output.json()) {
                out.println("refilled " + p.rows() + "/" + p.archiveRows() + " rows (chunk " + p.chunk()
                        + ", checkpoint " + p.checkpoint() + ")");
                out.flush();
            }
        });
        if (output.json()) {
            command.commandLine().getOut().println(Json.write(JsonMaps.ordered("migration", migration, "archive", a)));
            command.commandLine().getOut().flush();
            return 0;
        }
        command.commandLine().getOut().println("restored " + migration + ": " + a.sourceSchema() + "." + a.sourceTable()
                + (a.inPlace() ? " has its columns " + a.columns().stream().map(Archive.ArchivedColumn::name).toList()
                + " back" + (a.structure().isEmpty() ? "" : ", with " + a.structure().stream().map(st -> st.kind() + " "
                + st.name()).toList()) : " is back") + " (phase stays contracted; drop the archive with `shapeshift "
                + "contract drop-archive`)");
        command.commandLine().getOut().flush();
        return 0;
    }
}
