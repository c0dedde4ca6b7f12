package dev.shapeshift.launcher;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * A change the catalog audits and that prints one line, not a result document (so no
 * {@code --output}): the database options, {@code --actor} with the {@code --reason} flavour
 * {@code A} ({@link AuditOptions}) and the command's own spec. picocli takes the mixin from the
 * field's instance, so each subclass's {@code A} gives its options and help.
 */
abstract class AuditedCommand<A extends AuditOptions> implements Callable<Integer> {
    @Mixin
    DbOptions db = new DbOptions();

    @Mixin
    A why;

    @Spec
    CommandSpec command;

    AuditedCommand(A why) {
        this.why = why;
    }

    /** Prints {@code line} on the command's output. */
    void say(String line) {
        PrintWriter out = command.commandLine().getOut();
        out.println(line);
        out.flush();
    }

    /** A change to one migration, named first on the command line. */
    abstract static class OnMigration<A extends AuditOptions> extends AuditedCommand<A> {
        @Parameters(index = "0", paramLabel = "MIGRATION", description = "The migration's name.")
        String migration;

        OnMigration(A why) {
            super(why);
        }
    }
}
