package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.api.Json;
import dev.shapeshift.catalog.FlagStore;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code shapeshift flag get|set NAME}: read or set a read or write flag in the catalog. Setting bumps
 * the version and is audited; applications see it within their FlagClient's refresh interval.
 * Prefer {@code phase advance --to reads-switched} / {@code --to verified}, which flip the flag with
 * the phase on evidence; {@code flag set} is the manual override (docs/flags.md).
 */
@Command(name = "flag", mixinStandardHelpOptions = true,
        description = "Read or set a flag: a read flag or a write flag (docs/flags.md).",
        subcommands = {FlagCommand.Get.class, FlagCommand.Set.class, FlagCommand.Grant.class})
public final class FlagCommand extends GroupCommand {

    static void print(PrintWriter out, OutputOptions output, FlagStore.Flag f) {
        out.println(output.json() ? Json.write(f) : f.name() + "=" + f.value() + " version="
                + f.version() + " changed by " + f.changedBy() + " at " + f.changedAt());
        out.flush();
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a flag's value and version.")
    static final class Get extends DbCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            print(command.commandLine().getOut(), output, new FlagStore(db.catalog()).get(name));
            return 0;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Set a flag to on or off (audited).")
    static final class Set extends DbCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "on|off")
        String value;

        @Mixin
        AuditOptions.Required why = new AuditOptions.Required();

        @Override
        public Integer call() {
            boolean on = switch (value.toLowerCase(java.util.Locale.ROOT)) {
                case "on", "true" -> true;
                case "off", "false" -> false;
                default -> throw new picocli.CommandLine.ParameterException(command.commandLine(),
                        "value must be on or off, got '" + value + "'");
            };
            print(command.commandLine().getOut(), output, new FlagStore(db.catalog()).set(name, null, on, why.actor, why.reason()));
            return 0;
        }
    }

    @Command(name = "grant", mixinStandardHelpOptions = true,
            description = "Let a database role call SELECT shapeshift.flag('NAME') (audited).")
    static final class Grant extends AuditedCommand<AuditOptions.Optional> {
        @Parameters(index = "0", paramLabel = "ROLE", description = "The role your application logs in as.")
        String role;

        Grant() {
            super(new AuditOptions.Optional());
        }

        @Override
        public Integer call() {
            new FlagStore(db.catalog()).grantReader(role, why.actor, why.reason());
            say("role " + role + " may now call SELECT shapeshift.flag('<flag name>')");
            return 0;
        }
    }
}
