package dev.shapeshift.launcher;

import dev.shapeshift.worker.sync.SyncSkip;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code shapeshift sync skip}: the only way past an undecodable change record, audited. */
@Command(name = "sync", mixinStandardHelpOptions = true, description = "Operator actions on a migration's sync.",
        subcommands = SyncCommand.Skip.class)
public final class SyncCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "skip", mixinStandardHelpOptions = true,
            description = {"Skip ONE undecodable change record at PARTITION:OFFSET (as the stop message names it).",
                    "The skipped change is not applied: reconcile afterwards to find and repair what it changed."})
    static final class Skip implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MIGRATION")
        String migration;

        @Parameters(index = "1", paramLabel = "PARTITION:OFFSET")
        String position;

        @Mixin
        AuditOptions.Required why = new AuditOptions.Required();

        @Mixin
        DbOptions db = new DbOptions();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            SyncSkip.request(db.catalog(), migration, position, why.actor, why.reason());
            spec.commandLine().getOut().println("skip of " + migration + " record " + position
                    + " requested; the stopped worker resumes after it within a few seconds");
            return 0;
        }
    }
}
