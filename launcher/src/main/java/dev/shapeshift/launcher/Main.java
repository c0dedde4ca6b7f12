package dev.shapeshift.launcher;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.sinks.SinkPlugins;
import dev.shapeshift.error.ShapeshiftException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Entry point of the runtime jar: every role and operator command is a subcommand. The all-in-one
 * jar (module toolkit) runs the same class and adds {@code demo} and {@code bench} through
 * {@link ExtraCommand}. Exit codes: docs/cli.md.
 */
@Command(name = "shapeshift", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Zero-downtime expand-contract migrations for PostgreSQL.",
        subcommands = {
                // the roles
                CoordinatorCommand.class, BridgeCommand.class, WorkerCommand.class,
                // specs
                ValidateCommand.class, PlanCommand.class,
                // starting migrations
                StartCommand.class, ApplyCommand.class, RunCommand.class,
                // running migrations
                ListCommand.class, CheckCommand.class, StatusCommand.class, WaitCommand.class, PhaseCommand.class, PhaseCommand.Rollback.class, BackfillCommand.class,
                SyncCommand.class, ReconcileCommand.class, ReconcileCommand.DriftCommand.class, FlagCommand.class, StatusCommand.Audit.class,
                // the end
                EvidenceCommand.class, ReplicaCommand.class, BrownoutCommand.class, ContractCommand.class, RestoreCommand.class, CleanupCommand.class})
public final class Main implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Main.class);

    @Option(names = "--log-format", paramLabel = "FORMAT", defaultValue = "text", scope = ScopeType.INHERIT,
            description = "Log lines on stderr as text (ISO-8601 time) or json, one object per line (default: ${DEFAULT-VALUE}).")
    Logs.Format logFormat;

    @Option(names = "--plugins", paramLabel = "DIR", scope = ScopeType.INHERIT,
            description = "Directory of sink plugin jars (docs/sinks.md), besides the class path; default: $SHAPESHIFT_PLUGINS, else none.")
    Path plugins;

    public static void main(String[] args) {
        CommandLine cmd;
        try {
            cmd = commandLine();
        } catch (ShapeshiftException e) { // an unreadable configuration file
            System.err.println(e.getMessage());
            System.exit(e.code().exitCode());
            return;
        }
        System.exit(cmd.execute(args));
    }

    /** The configured command line: usage errors exit 2, Shapeshift failures with their code's exit code. */
    public static CommandLine commandLine() {
        return commandLine(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** The command line with options defaulted from this environment and configuration file ({@link ConfigDefaults}). */
    static CommandLine commandLine(Map<String, String> env, Path home) {
        return commandLine(env, home, ExtraCommand.onClassPath());
    }

    /** The command line with these extra subcommands (none: the runtime jar's). */
    static CommandLine commandLine(Map<String, String> env, Path home, List<ExtraCommand> extra) {
        CommandLine cmd = new CommandLine(new Main());
        extra.forEach(cmd::addSubcommand);
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        cmd.setDefaultValueProvider(ConfigDefaults.of(env, home));
        cmd.setExecutionStrategy(parseResult -> {
            List<CommandLine> chain = parseResult.asCommandLineList();
            CommandLine last = chain.get(chain.size() - 1);
            Object format = last.getCommandSpec().findOption("--log-format").getValue();
            Logs.configure(Logs.configurationFor(chain.size() > 1 ? chain.get(1).getCommandName() : ""),
                    format == null ? Logs.Format.TEXT : (Logs.Format) format);
            Object plugins = last.getCommandSpec().findOption("--plugins").getValue();
            if (plugins != null) {
                SinkPlugins.useDirectory((Path) plugins);
            }
            return new CommandLine.RunLast().execute(parseResult);
        });
        Version version = new Version();
        forEach(cmd, c -> c.getCommandSpec().versionProvider(version)); // `shapeshift worker --version` too
        cmd.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            ErrorCode code = e instanceof ShapeshiftException se ? se.code() : ErrorCode.INTERNAL;
            String message = e instanceof ShapeshiftException ? e.getMessage() : "internal error: " + e;
            if (code == ErrorCode.INTERNAL && !(e instanceof ShapeshiftException)) {
                log.error("internal error", e);
            }
            if (jsonOutput(commandLine)) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("error", code.name());
                json.put("exitCode", code.exitCode());
                json.put("message", message);
                commandLine.getOut().println(OutputFormat.json(json));
                commandLine.getOut().flush();
            }
            commandLine.getErr().println(message);
            commandLine.getErr().flush();
            return code.exitCode();
        });
        return cmd;
    }

    private static void forEach(CommandLine cmd, java.util.function.Consumer<CommandLine> visit) {
        visit.accept(cmd);
        cmd.getSubcommands().values().forEach(c -> forEach(c, visit));
    }

    /** The artifact version, from the build ({@code version.properties}, filtered by Maven). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"shapeshift " + version()};
        }
    }

    /** The artifact version ({@code version.properties}), or a sentence saying it is unknown. */
    static String version() {
        java.util.Properties p = new java.util.Properties();
        try (java.io.InputStream in = Main.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (java.io.IOException e) {
            // unknown, as below
        }
        return p.getProperty("version", "(version unknown: not built by Maven)");
    }

    /** Whether the failed command was asked for {@code --output json} ({@link OutputOptions}). */
    private static boolean jsonOutput(CommandLine commandLine) {
        CommandLine.Model.OptionSpec output = commandLine.getCommandSpec().findOption("--output");
        return output != null && output.getValue() == OutputFormat.JSON;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
