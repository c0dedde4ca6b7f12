package dev.shapeshift.launcher;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the one jar: every role is a subcommand. Exit codes: docs/cli.md. */
@Command(name = "shapeshift", mixinStandardHelpOptions = true, version = "shapeshift 0.1.0",
        description = "Zero-downtime expand-contract migrations for PostgreSQL.",
        subcommands = {
                // the roles
                CoordinatorCommand.class, BridgeCommand.class, WorkerCommand.class,
                // the main job
                DemoCommand.class,
                // specs
                ValidateCommand.class, PlanCommand.class,
                // starting migrations
                StartCommand.class, ApplyCommand.class, RunCommand.class,
                // running migrations
                ListCommand.class, CheckCommand.class, StatusCommand.class, WaitCommand.class, PhaseCommand.class, PhaseCommand.Rollback.class, BackfillCommand.class,
                SyncCommand.class, ReconcileCommand.class, ReconcileCommand.DriftCommand.class, FlagCommand.class, StatusCommand.Audit.class,
                // the end
                EvidenceCommand.class, ContractCommand.class, RestoreCommand.class, CleanupCommand.class,
                // measurement
                BenchCommand.class})
public final class Main implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Main.class);

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line: usage errors exit 2, Shapeshift failures with their code's exit code. */
    public static CommandLine commandLine() {
        CommandLine cmd = new CommandLine(new Main());
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        cmd.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ShapeshiftException se) {
                commandLine.getErr().println(se.getMessage());
                commandLine.getErr().flush();
                return se.code().exitCode();
            }
            log.error("internal error", e);
            commandLine.getErr().println("internal error: " + e);
            commandLine.getErr().flush();
            return ErrorCode.INTERNAL.exitCode();
        });
        return cmd;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
