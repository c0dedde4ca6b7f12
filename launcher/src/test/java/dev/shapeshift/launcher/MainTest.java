package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.worker.Worker;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI's exit codes and output, run in-process. */
class MainTest {
    static final String EXAMPLE = Path.of("..", "examples", "users-email-verified.yaml").toString();

    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cmd = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int exit = cmd.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private String file(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p.toString();
    }

    @Test
    void validSpecWithoutDatabaseRunsStaticChecksOnly() {
        Run r = run("validate", EXAMPLE);
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("users-email-verified.yaml: valid — static checks only (no database connection given)");
    }

    @Test
    void malformedSpecExits10() throws IOException {
        Run r = run("validate", file("bad.yaml", "name: x\nbackfil: {}\n"));
        assertThat(r.exit()).isEqualTo(10);
        assertThat(r.err()).contains("bad.yaml:2:1: backfil: unknown field 'backfil' (did you mean backfill?)");
    }

    @Test
    void invalidSpecExits10AndListsEveryProblem() throws IOException {
        Run r = run("validate", file("inv.yaml", "name: Bad!\nsource: {table: users}\ntarget: {columns: []}\n"));
        assertThat(r.exit()).isEqualTo(10);
        assertThat(r.out()).contains("inv.yaml: name: 'Bad!' is not a safe name")
                .contains("inv.yaml: target.columns: no target columns").contains("2 problem(s)");
    }

    @Test
    void jsonOutputListsProblems() throws IOException {
        Run r = run("validate", "--output", "json", file("inv.yaml", "name: ok\nsource: {table: users}\ntarget: {columns: []}\n"));
        assertThat(r.exit()).isEqualTo(10);
        assertThat(r.out()).contains("\"valid\" : false").contains("\"path\" : \"target.columns\"");
    }

    @Test
    void unreachableDatabaseExits3WithoutThePassword() {
        Run r = run("validate", EXAMPLE, "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/app?password=hunter2&user=me");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("cannot connect to jdbc:postgresql://127.0.0.1:1/app?password=***&user=me")
                .doesNotContain("hunter2");
    }

    @Test
    void startAndApplyCheckTheirInputBeforeTheDatabase() throws IOException {
        Run noDb = run("start", EXAMPLE);
        assertThat(noDb.exit()).isEqualTo(3);
        assertThat(noDb.err()).contains("no database given — pass --jdbc-url or set SHAPESHIFT_JDBC_URL");
        Run malformed = run("start", file("m.yaml", "name: m\nsorce:\n  table: users\n"));
        assertThat(malformed.exit()).isEqualTo(10);
        assertThat(malformed.err()).contains("m.yaml:").contains("unknown field 'sorce'");
        Run notADir = run("apply", dir.resolve("nope").toString());
        assertThat(notADir.exit()).isEqualTo(10);
        assertThat(notADir.err()).contains("nope: not a directory");
        Run empty = run("apply", Files.createDirectories(dir.resolve("empty")).toString());
        assertThat(empty.exit()).isEqualTo(10);
        assertThat(empty.err()).contains("no spec files (*.yaml, *.yml)");
        assertThat(run("start").exit()).isEqualTo(2);
    }

    @Test
    void usageErrorExits2() {
        assertThat(run("validate").exit()).isEqualTo(2);
        assertThat(run("validate", EXAMPLE, "--bogus").exit()).isEqualTo(2);
        assertThat(run("validate", EXAMPLE, "--output", "yaml").exit()).isEqualTo(2);
    }

    @Test
    void workerTakesLeaseAndSessionTimeoutsWithDefaultsShownInHelp() throws Exception {
        Run help = run("worker", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out().replaceAll("\\s+", " ")).as("help, wrapping ignored").contains("--lease-timeout-ms=MS").contains("(min 2000). Default: 30000")
                .contains("--session-timeout-ms=MS").contains("(min 6000). Default: 10000");

        CommandLine cmd = Main.commandLine();
        cmd.parseArgs("worker", "--bootstrap", "k:9092", "--worker-id", "w1", "--lease-timeout-ms", "4000",
                "--session-timeout-ms", "7000");
        Worker.Config config = ((WorkerCommand) cmd.getSubcommands().get("worker").getCommand()).config();
        assertThat(config.leaseTimeout()).isEqualTo(Duration.ofSeconds(4));
        assertThat(config.sessionTimeout()).isEqualTo(Duration.ofSeconds(7));

        CommandLine defaults = Main.commandLine();
        defaults.parseArgs("worker", "--bootstrap", "k:9092", "--worker-id", "w1");
        assertThat(((WorkerCommand) defaults.getSubcommands().get("worker").getCommand()).config())
                .as("the help's defaults are the worker's").isEqualTo(Worker.Config.of("w1", List.of()));
    }

    @Test
    void workerRefusesTooShortTimeoutsAsUsageErrors() {
        Run lease = run("worker", "--bootstrap", "k:9092", "--worker-id", "w1", "--lease-timeout-ms", "500");
        assertThat(lease.exit()).isEqualTo(2);
        assertThat(lease.err()).contains("chunk lease timeout (--lease-timeout-ms) must be at least 2000 ms")
                .contains("got 500 ms");
        Run session = run("worker", "--bootstrap", "k:9092", "--worker-id", "w1", "--session-timeout-ms", "3000");
        assertThat(session.exit()).isEqualTo(2);
        assertThat(session.err()).contains("Kafka session timeout (--session-timeout-ms) must be at least 6000 ms")
                .contains("got 3000 ms");
    }

    @Test
    void missingFileExits10() {
        Run r = run("plan", dir.resolve("nope.yaml").toString());
        assertThat(r.exit()).isEqualTo(10);
        assertThat(r.err()).contains("nope.yaml: no such file");
    }

    @Test
    void planWithoutDatabasePrintsPhasesDdlAndUnknownChunks() {
        Run r = run("plan", EXAMPLE);
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("planned → expanded → syncing → backfilling → backfilled → verified → reads-switched"
                        + " → contract-ready → contracted")
                .contains("ALTER TABLE \"public\".\"users\"\n  ADD COLUMN \"email_verified\" boolean;")
                .contains("ESTIMATE").contains("Nothing was changed.");
    }

    @Test
    void planJson() {
        Run r = run("plan", "--output", "json", EXAMPLE);
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("\"migration\" : \"users-email-verified\"").contains("\"estimate\" : true");
    }

    @Test
    void redactsPasswordsInUrls() {
        assertThat(ConnectionOptions.redact("jdbc:postgresql://u:secret@h/db")).isEqualTo("jdbc:postgresql://u:***@h/db");
        assertThat(ConnectionOptions.redact("jdbc:postgresql://h/db?user=a&password=x")).isEqualTo("jdbc:postgresql://h/db?user=a&password=***");
    }
}
