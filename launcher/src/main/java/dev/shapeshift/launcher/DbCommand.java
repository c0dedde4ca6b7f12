package dev.shapeshift.launcher;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * What every command that reads or changes the catalog declares: the database options, besides
 * the output options and its own picocli spec ({@link OutputCommand}).
 */
abstract class DbCommand extends OutputCommand {
    @Mixin
    DbOptions db = new DbOptions();

    /** A command on one migration, named first on the command line. */
    abstract static class OnMigration extends DbCommand {
        @Parameters(index = "0", paramLabel = "MIGRATION", description = "The migration's name.")
        String migration;
    }
}
