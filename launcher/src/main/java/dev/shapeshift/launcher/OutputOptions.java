package dev.shapeshift.launcher;

import picocli.CommandLine.Option;

/**
 * {@code --output text|json}, the same on every command that prints a result. With {@code json}
 * the result is one JSON document on stdout, and so is a failure ({@link Main}: {@code error},
 * {@code exitCode}, {@code message}), so a program reads stdout whatever happened.
 */
public final class OutputOptions {
    @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text",
            description = "text or json (default: ${DEFAULT-VALUE}).")
    OutputFormat format = OutputFormat.TEXT;

    public boolean json() {
        return format == OutputFormat.JSON;
    }
}
