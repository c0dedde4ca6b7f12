package dev.shapeshift.launcher;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * What the commands that read a spec file and may run without a database ({@code validate},
 * {@code plan}) declare: the spec file and the optional source database ({@link ConnectionOptions}),
 * besides the output options and their own spec ({@link OutputCommand}).
 */
abstract class SpecCommand extends OutputCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file (YAML).")
    Path specFile;

    @Mixin
    ConnectionOptions connection = new ConnectionOptions();
}
