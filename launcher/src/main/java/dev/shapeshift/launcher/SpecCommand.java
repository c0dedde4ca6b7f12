package dev.shapeshift.launcher;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * What the commands that read a spec file and may run without a database ({@code validate},
 * {@code plan}) declare: the spec file, the optional source database ({@link ConnectionOptions}),
 * {@code --output} and the command's own spec.
 */
abstract class SpecCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file (YAML).")
    Path specFile;

    @Mixin
    ConnectionOptions connection = new ConnectionOptions();

    @Mixin
    OutputOptions output = new OutputOptions();

    @Spec
    CommandSpec command;
}
