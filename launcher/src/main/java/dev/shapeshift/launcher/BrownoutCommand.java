package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.contract.Brownout;
import dev.shapeshift.coordinator.contract.BrownoutReport;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code shapeshift brownout end|start MIGRATION --reason …}: the operator's hand on the brownout
 * the driver runs ({@code contract.brownout}): end it now at a sign of trouble only the team sees
 * (access comes back at once; the driver does not start another by itself), or start one again.
 */
@Command(name = "brownout", mixinStandardHelpOptions = true,
        description = "End a running brownout now (access to the old shape comes back), or start one.",
        subcommands = {BrownoutCommand.End.class, BrownoutCommand.Start.class})
public final class BrownoutCommand implements Runnable {
    @Spec
    CommandSpec command;

    @Override
    public void run() {
        command.commandLine().usage(command.commandLine().getOut());
    }

    @Command(name = "end", mixinStandardHelpOptions = true, description = "Restore access to the old shape now.")
    static final class End implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MIGRATION", description = "The migration's name.")
        String migration;

        @Mixin
        DbOptions db = new DbOptions();

        @Mixin
        AuditOptions.Required why = new AuditOptions.Required();

        @Spec
        CommandSpec command;

        @Override
        public Integer call() {
            BrownoutReport b = new Brownout(db.database()).end(migration, why.actor, "ended by " + why.actor + ": "
                    + why.reason(), false);
            print(command, b);
            return 0;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = "Start a brownout now (contract-ready only; the window is contract.brownout).")
    static final class Start implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MIGRATION", description = "The migration's name.")
        String migration;

        @Mixin
        DbOptions db = new DbOptions();

        @Mixin
        AuditOptions.Required why = new AuditOptions.Required();

        @Spec
        CommandSpec command;

        @Override
        public Integer call() {
            print(command, new Brownout(db.database()).start(migration, why.actor));
            return 0;
        }
    }

    private static void print(CommandSpec command, BrownoutReport b) {
        PrintWriter out = command.commandLine().getOut();
        out.println(b == null ? "no brownout" : b.summary());
        out.flush();
    }
}
