package dev.shapeshift.launcher;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every command that prints a result for people or programs declares: the output options
 * ({@code --output text|json}) and its own picocli spec (for its output streams). The catalog
 * commands ({@link DbCommand}) and the spec-file commands ({@link SpecCommand}) add where their
 * input comes from. picocli finds these annotated fields in the superclass as in the command itself.
 */
abstract class OutputCommand {
    @Mixin
    OutputOptions output = new OutputOptions();

    @Spec
    CommandSpec command;
}
