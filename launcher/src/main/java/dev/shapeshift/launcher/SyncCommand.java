package dev.shapeshift.launcher;

import dev.shapeshift.worker.sync.SyncSkip;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code shapeshift sync skip}: the only way past an undecodable change record, audited. */
@Command(name = "sync", mixinStandardHelpOptions = true, description = "Operator actions on a migration's sync.",
        subcommands = SyncCommand.Skip.class)
public final class SyncCommand extends GroupCommand {

    @Command(name = "skip", mixinStandardHelpOptions = true,
            description = {"Skip ONE undecodable change record at PARTITION:OFFSET (as the stop message names it).",
                    "The skipped change is not applied: reconcile afterwards to find and repair what it changed."})
    static final class Skip extends AuditedCommand<AuditOptions.Required> {
        @Parameters(index = "0", paramLabel = "MIGRATION")
        String migration;

        @Parameters(index = "1", paramLabel = "PARTITION:OFFSET")
        String position;

        Skip() {
            super(new AuditOptions.Required());
        }

        @Override
        public Integer call() {
            SyncSkip.request(db.catalog(), migration, position, why.actor, why.reason());
            say("skip of " + migration + " record " + position
                    + " requested; the stopped worker resumes after it within a few seconds");
            return 0;
        }
    }
}
