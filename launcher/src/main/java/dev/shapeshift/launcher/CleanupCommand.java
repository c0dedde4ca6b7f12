package dev.shapeshift.launcher;

import dev.shapeshift.json.JsonMaps;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.contract.Cleanup;
import dev.shapeshift.coordinator.contract.Rollback;
import dev.shapeshift.db.Database;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.coordinator.api.Json;
import java.util.List;
import java.util.Map;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shapeshift cleanup MIGRATION --reason R}: after {@code contracted} or {@code rolled-back},
 * for a rolled-back migration first undoes the expand (drops the new columns or the new table,
 * unless {@code --keep-new-shape}), then removes the migration's table from the bridge's publication (the publication itself when no
 * active migration is left), drops the slot with {@link CdcBridge#dropSlot} when no other active
 * migration streams through it and no bridge holds it, and deletes the migration's Kafka topics.
 * Audited; refuses while the migration is active. See docs/operations.md.
 */
@Command(name = "cleanup", mixinStandardHelpOptions = true,
        description = "Remove a finished migration's publication entry, slot (if unused) and Kafka topics.")
public final class CleanupCommand extends DbCommand.OnMigration implements Callable<Integer> {

    @Mixin
    KafkaOptions kafkaSettings = new KafkaOptions();

    @Mixin
    AuditOptions.Required why = new AuditOptions.Required();

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers, to delete the migration's topics; without it the topics stay.")
    String bootstrapServers;

    /** The option's former name, kept working for scripts that use it. */
    @Option(names = "--bootstrap-servers", hidden = true, paramLabel = "HOST:PORT")
    void bootstrapServers(String servers) {
        if (servers != null) {
            bootstrapServers = servers;
        }
    }

    @Option(names = "--publication", paramLabel = "NAME", description = "The bridge's publication (default shapeshift_pub).")
    String publication = Cleanup.DEFAULT_PUBLICATION;

    @Option(names = "--keep-new-shape", description = "Rolled-back migrations: keep the new columns or table "
            + "(e.g. they existed before the migration).")
    boolean keepNewShape;

    @Override
    public Integer call() {
        kafkaSettings.apply();
        Database database = db.database();
        Catalog catalog = new Catalog(database, "cli");
        Cleanup cleanup = new Cleanup(database, bootstrapServers, publication, CdcBridge::dropSlot);
        List<String> done;
        List<String> left;
        if (catalog.get(migration).phase() == Phase.ROLLED_BACK) {
            Rollback.Result r = new Rollback(database, GateWiring.transitions(database, "cli"), cleanup)
                    .rollback(migration, why.actor, why.reason(), keepNewShape);
            done = r.done();
            left = r.left();
        } else {
            Cleanup.Result r = cleanup.run(migration, why.actor, why.reason());
            done = r.done();
            left = r.left();
        }
        PrintWriter out = command.commandLine().getOut();
        if (output.json()) {
            out.println(Json.write(JsonMaps.ordered("migration", migration, "done", done, "left", left)));
        } else {
            done.forEach(d -> out.println("done: " + d));
            left.forEach(l -> out.println("left: " + l));
        }
        out.flush();
        return 0;
    }
}
