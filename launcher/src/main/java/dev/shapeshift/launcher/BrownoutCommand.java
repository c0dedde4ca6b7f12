package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.contract.Brownout;
import dev.shapeshift.coordinator.contract.BrownoutReport;
import picocli.CommandLine.Command;

/**
 * {@code shapeshift brownout end|start MIGRATION --reason …}: the operator's hand on the brownout
 * the driver runs ({@code contract.brownout}): end it now at a sign of trouble only the team sees
 * (access comes back at once; the driver does not start another by itself), or start one again.
 */
@Command(name = "brownout", mixinStandardHelpOptions = true,
        description = "End a running brownout now (access to the old shape comes back), or start one.",
        subcommands = {BrownoutCommand.End.class, BrownoutCommand.Start.class})
public final class BrownoutCommand extends GroupCommand {
    /** A brownout move: the migration, the database and who and why (a reason is required). */
    abstract static class Move extends AuditedCommand.OnMigration<AuditOptions.Required> {
        Move() {
            super(new AuditOptions.Required());
        }

        Integer print(BrownoutReport b) {
            say(b == null ? "no brownout" : b.summary());
            return 0;
        }
    }

    @Command(name = "end", mixinStandardHelpOptions = true, description = "Restore access to the old shape now.")
    static final class End extends Move {
        @Override
        public Integer call() {
            return print(new Brownout(db.database()).end(migration, why.actor, "ended by " + why.actor + ": "
                    + why.reason(), false));
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = "Start a brownout now (contract-ready only; the window is contract.brownout).")
    static final class Start extends Move {
        @Override
        public Integer call() {
            return print(new Brownout(db.database()).start(migration, why.actor));
        }
    }
}
