package dev.shapeshift.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the one jar: every role is a subcommand. */
@Command(name = "shapeshift", mixinStandardHelpOptions = true, version = "shapeshift 0.1.0",
        description = "Zero-downtime expand-contract migrations for PostgreSQL.")
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
