package dev.shapeshift.launcher;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * What every command that reads or changes the catalog declares: the database options, the
 * output options ({@code --output text|json}) and its own picocli spec (for its output streams).
 * picocli finds these annotated fields in the superclass as in the command itself.
 */
abstract class DbCommand {
    @Mixin
    DbOptions db = new DbOptions();

    @Mixin
    OutputOptions output = new OutputOptions();

    @Spec
    CommandSpec command;

    /** A command on one migration, named first on the command line. */
    abstract static class OnMigration extends DbCommand {
        @Parameters(index = "0", paramLabel = "MIGRATION", description = "The migration's name.")
        String migration;
    }
}
