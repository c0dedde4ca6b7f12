package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.api.Json;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.gate.GateClosedException;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.json.JsonMaps;
import dev.shapeshift.phase.Phase;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shapeshift phase advance MIGRATION --to PHASE --reason ...} and
 * {@code shapeshift rollback MIGRATION --reason ...}: the same gated, audited moves as the API.
 * A refused gate prints every failed check and exits 5 (GATE_CLOSED).
 */
@Command(name = "phase", mixinStandardHelpOptions = true, description = "Move a migration through its phases, on evidence.",
        subcommands = {PhaseCommand.Advance.class, PhaseCommand.Rollback.class})
public final class PhaseCommand extends GroupCommand {

    abstract static class Move extends DbCommand.OnMigration implements Callable<Integer> {

        @Mixin
        AuditOptions.Required why = new AuditOptions.Required();

        abstract Phase target();

        @Override
        public Integer call() {
            Transitions transitions = GateWiring.transitions(db.database(), "cli");
            PrintWriter out = command.commandLine().getOut();
            try {
                MigrationRecord m = transitions.advance(migration, target(), why.actor, why.reason());
                out.println(output.json() ? Json.write(JsonMaps.ordered("migration", m.name(), "phase",
                        m.phase().label(), "version", m.version())) : m.name() + " is now " + m.phase());
                out.flush();
                return 0;
            } catch (GateClosedException e) {
                if (output.json()) {
                    out.println(Json.write(JsonMaps.ordered("error", e.code().name(), "message", e.getMessage(),
                            "gate", e.report())));
                    out.flush();
                    return e.code().exitCode();
                }
                throw e;
            }
        }
    }

    @Command(name = "advance", mixinStandardHelpOptions = true, description = "Move to the next phase if its gate is open.")
    public static final class Advance extends Move {
        @Option(names = "--to", required = true, paramLabel = "PHASE", description = "The phase to move to, e.g. verified, dual-writes, reads-switched, writes-switched.")
        String to;

        @Override
        Phase target() {
            try {
                return Phase.fromLabel(to);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(command.commandLine(), "unknown phase '" + to
                        + "'; one of " + java.util.List.of(Phase.values()));
            }
        }
    }

    /** Also registered at the top level as {@code shapeshift rollback}. */
    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Roll back (any phase before contracted): reads go back to the old shape, sync and backfill stop.")
    public static final class Rollback extends Move {
        @Override
        Phase target() {
            return Phase.ROLLED_BACK;
        }
    }
}
