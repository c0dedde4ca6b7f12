package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
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
        assertThat(plan.results.command())
                .isEqualTo("shapeshift bench plan --rows 20000 --chunk-rows 50000 --out /tmp/r");
    }

    /** Each case's command line as the report recorded it when every subcommand wrote its own. */
    static Stream<Arguments> recordedCommands() {
        return Stream.of(
                Arguments.of(List.of("reconcile", "--rows", "2000", "--range-rows", "5,6", "--out", "/tmp/r"),
                        "shapeshift bench reconcile --rows 2000 --range-rows 5,6 --parallelism 1,2,4 --rounds 2 --out /tmp/r"),
                Arguments.of(List.of("index", "--rows", "5000", "--reindex-above-pct", "120"),
                        "shapeshift bench index --rows 5000 --workers 2 --chunk-rows 50000 --partitions 8 "
                                + "--reindex-above-pct 120 --out bench/results"),
                Arguments.of(List.of("ddl", "--clients", "3"),
                        "shapeshift bench ddl --rows 1000000 --clients 3 --rounds 2 --out bench/results"),
                Arguments.of(List.of("sink"), "shapeshift bench sink --rows 10000 --rounds 2 --out bench/results"),
                Arguments.of(List.of("read-counter", "--clients", "2,8", "--seconds", "7"),
                        "shapeshift bench read-counter --rows 100000 --clients 2,8 --seconds 7 --rounds 3 --out bench/results"),
                Arguments.of(List.of("all", "--pgbench", "/opt/pgbench", "--log-format", "json"),
                        "shapeshift bench all --rows 1000000 --workers 2 --sync-scale 10 --sync-duration 20 "
                                + "--pgbench /opt/pgbench --out bench/results"));
    }

    @ParameterizedTest
    @MethodSource("recordedCommands")
    void everyCaseRecordsItsOwnOptionsInOrderAndNothingElse(List<String> args, String recorded) {
        List<String> line = new ArrayList<>(List.of("bench"));
        line.addAll(args);
        CommandLine.ParseResult parsed = cli().parseArgs(line.toArray(String[]::new));
        BenchCommand.Case bench = parsed.subcommand().subcommand().commandSpec().commandLine().getCommand();
        assertThat(bench.results.command()).isEqualTo(recorded);
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
