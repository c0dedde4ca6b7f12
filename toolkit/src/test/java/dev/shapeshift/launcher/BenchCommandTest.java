package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code bench} subcommands share one option mixin ({@link BenchCommand.Results}); nothing here runs a benchmark. */
class BenchCommandTest {
    @TempDir
    Path home;

    private CommandLine cli() {
        return Main.commandLine(Map.of(), home);
    }

    @Test
    void everySubcommandTakesTheResultDirectory() {
        CommandLine bench = cli().getSubcommands().get("bench");
        assertThat(bench).as("the all-in-one CLI has bench (ExtraCommand)").isNotNull();
        assertThat(bench.getSubcommands().keySet())
                .containsExactlyInAnyOrder("backfill", "sync", "reconcile", "ddl", "plan", "sink", "read-counter", "soak", "index", "all");
        bench.getSubcommands().forEach((name, sub) ->
                assertThat(sub.getCommandSpec().findOption("--out").defaultValue()).as(name).isEqualTo("bench/results"));
    }

    @Test
    void theReportRecordsTheCommandWithItsDefaultsAndTheResultDirectory() {
        CommandLine cmd = cli();
        CommandLine.ParseResult parsed = cmd.parseArgs("bench", "plan", "--rows", "20000", "--out", "/tmp/r");
        BenchCommand.Plan plan = parsed.subcommand().subcommand().commandSpec().commandLine().getCommand();
        assertThat(plan.results.command("--rows " + plan.rows + " --chunk-rows " + plan.chunkRows))
                .isEqualTo("shapeshift bench plan --rows 20000 --chunk-rows 50000 --out /tmp/r");
    }

    @Test
    void aBadValueIsAUsageErrorOfItsSubcommand() {
        CommandLine cmd = cli();
        StringWriter err = new StringWriter();
        cmd.setErr(new PrintWriter(err));
        int exit = cmd.execute("bench", "read-counter", "--rows", "5");
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("need --rows >= 1000").contains("Usage: shapeshift bench read-counter");
    }

    @Test
    void roleJvmsAndJfrRefuseWhatTheyCannotRunBeforeAnythingStarts() {
        for (String[] args : new String[][] {{"bench", "sync", "--role-jvms", "--reverse"},
                {"bench", "sync", "--role-jvms", "--backfill-during"}, {"bench", "sync", "--jfr", "/tmp/j"}}) {
            CommandLine cmd = cli();
            StringWriter err = new StringWriter();
            cmd.setErr(new PrintWriter(err));
            int exit = cmd.execute(args);
            assertThat(exit).as(String.join(" ", args)).isEqualTo(2);
            assertThat(err.toString()).as(String.join(" ", args)).containsAnyOf("--role-jvms runs the plain forward sync only",
                    "--jfr records the role JVMs: it needs --role-jvms");
        }
    }
}
