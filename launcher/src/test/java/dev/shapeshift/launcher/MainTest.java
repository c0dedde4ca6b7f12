package dev.shapeshift.launcher;

import static org.awaitility.Awaitility.await;

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

    /** Runs a CLI command until it exits 0; on a timeout the failure names what it printed last. */
    static void untilExitZero(String... args) {
        java.util.concurrent.atomic.AtomicReference<MainTest.Run> last = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
        long t0 = System.nanoTime();
        String what = String.join(" ", java.util.Arrays.copyOf(args, Math.min(4, args.length)));
        try {
            await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                attempts.incrementAndGet();
                MainTest.Run previous = last.getAndSet(MainTest.run(args));
                if (last.get().exit() != 0 && (previous == null || !previous.err().equals(last.get().err()))) {
                    System.out.println("CLI " + what + " exit " + last.get().exit() + ": "
                            + last.get().out() + last.get().err());
                }
                return last.get().exit() == 0;
            });
            System.out.printf("CLI %s exited 0 after %d attempt(s), %d ms%n", what, attempts.get(),
                    (System.nanoTime() - t0) / 1_000_000);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            MainTest.Run run = last.get();
            throw new AssertionError(what + " did not exit 0 within 4 minutes; last exit "
                    + (run == null ? "none" : run.exit() + ":\n" + run.out() + run.err()), e);
        }
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
        assertThat(r.out()).contains("bad.yaml:2:1: backfil: unknown field 'backfil' (did you mean backfill?)");
    }

    @Test
    void validateReportsEveryProblemOfAMalformedSpecInOneRun() throws IOException {
        String spec = file("four.yaml", """
                name: Bad!
                sorce: {table: users}
                target:
                  columns:
                    - {name: email_verified, type: boolean, transform: legacy_verified_at IS NOT NULL}
                backfill: {chunkRows: lots, lockTimeout: 2 minutes}
                """);
        Run r = run("validate", spec);
        assertThat(r.exit()).isEqualTo(10);
        assertThat(r.out().lines()).as("structural problems, then the static checks of what was read").containsExactly(
                "four.yaml:2:1: sorce: unknown field 'sorce' (did you mean source?) — the fields of the top level are: "
                        + "backfill, contract, expand, mode, name, reconcile, source, switch, target, writes",
                "four.yaml:6:12: backfill.chunkRows: 'lots' is not a whole number — write a whole number",
                "four.yaml:6:29: backfill.lockTimeout: '2 minutes' is not " + dev.shapeshift.spec.DurationText.FORMS
                        + " — write " + dev.shapeshift.spec.DurationText.FORMS,
                r.out().lines().filter(l -> l.startsWith("four.yaml: name:")).findFirst().orElse("a problem with name"),
                r.out().lines().filter(l -> l.startsWith("four.yaml: source:")).findFirst().orElse("a problem with source"),
                "four.yaml: 5 problem(s) — static checks only (the spec is malformed; the live checks run once it reads)");

        Run json = run("validate", "--output", "json", spec);
        assertThat(json.exit()).isEqualTo(10);
        assertThat(json.err()).isEmpty();
        var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out());
        assertThat(tree.get("valid").asBoolean()).isFalse();
        assertThat(tree.get("checks").asText()).isEqualTo("read+static");
        assertThat(tree.get("problems")).hasSize(5);
        assertThat(tree.get("problems").get(1).get("path").asText()).isEqualTo("backfill.chunkRows");
        assertThat(tree.get("problems").get(1).get("location").asText()).isEqualTo("6:12");
    }

    @Test
    void jsonOutputReportsAFailureAsJsonOnStdout() throws IOException {
        Run r = run("validate", "--output", "json", dir.resolve("nope.yaml").toString());
        assertThat(r.exit()).isEqualTo(10);
        var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertThat(tree.get("error").asText()).isEqualTo("SPEC_MALFORMED");
        assertThat(tree.get("exitCode").asInt()).isEqualTo(10);
        assertThat(tree.get("message").asText()).contains("nope.yaml: no such file");
        assertThat(r.err()).as("people still read the message").contains("nope.yaml: no such file");
    }

    @Test
    void everyCommandWithAResultTakesOutputJsonAndRequiredReasonsShowAsRequired() {
        for (String[] args : List.of(new String[] {"backfill", "status", "m"}, new String[] {"contract", "m", "--reason", "r"},
                new String[] {"contract", "drop-archive", "m"}, new String[] {"restore", "m", "--reason", "r"},
                new String[] {"cleanup", "m", "--reason", "r"}, new String[] {"status", "m"}, new String[] {"list"},
                new String[] {"audit"}, new String[] {"validate", "x.yaml"}, new String[] {"plan", "x.yaml"},
                new String[] {"start", "x.yaml"}, new String[] {"apply", "d"}, new String[] {"flag", "get", "f"},
                new String[] {"reconcile", "status", "m"}, new String[] {"drift", "list", "m"},
                new String[] {"phase", "advance", "m", "--to", "verified", "--reason", "r"}, new String[] {"evidence", "m"})) {
            List<String> withJson = new java.util.ArrayList<>(List.of(args));
            withJson.addAll(List.of("--output", "json"));
            CommandLine cmd = Main.commandLine();
            assertThat(cmd.parseArgs(withJson.toArray(String[]::new)).errors()).as(String.join(" ", args)).isEmpty();
        }
        for (String command : List.of("contract m", "restore m", "cleanup m", "phase advance m --to verified", "rollback m",
                "flag set f on", "sync skip m 0:1")) {
            Run help = run((command + " --help").split(" "));
            assertThat(help.out().lines().filter(l -> l.contains("--reason")).findFirst().orElseThrow())
                    .as(command + " shows --reason as required in its synopsis").contains(" --reason=TEXT").doesNotContain("[--reason");
            Run missing = run(command.split(" "));
            assertThat(missing.exit()).as(command).isEqualTo(2);
            assertThat(missing.err()).contains("Missing required option: '--reason=TEXT'");
        }
        assertThat(run("backfill", "pause", "--help").out()).as("optional where optional").contains("[--reason=TEXT]");
    }

    @Test
    void backfillSetTakesEveryWholeNumberKnobAndNamesThemWhenTheNameOrValueIsWrong() {
        Run unknown = run("backfill", "set", "m", "max-load=3");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("[max-rows-per-second, max-active-backends, max-app-latency-ms, max-app-latency-pct, app-latency-baseline-us, reindex-above-pct]");
        Run negative = run("backfill", "set", "m", "max-active-backends=-2");
        assertThat(negative.exit()).isEqualTo(2);
        assertThat(negative.err()).contains("max-active-backends=-2: write a whole number ≥ 0 (0 = off)");
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
        assertThat(noDb.exit()).as("a missing --jdbc-url is a usage error").isEqualTo(2);
        assertThat(noDb.err()).contains("Missing required option: '--jdbc-url=URL' (or set SHAPESHIFT_JDBC_URL)")
                .contains("Usage:");
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
    void aRefusedConnectionIsNamedAtOnceWithHostAndPort() throws IOException {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Run r = run("list", "--jdbc-url", "jdbc:postgresql://127.0.0.1:" + port + "/app?password=hunter2");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).as("the socket check, not the pool's time-out").contains("connection refused to 127.0.0.1:" + port)
                .doesNotContain("within 10 s").doesNotContain("hunter2");
        Run unknown = run("list", "--jdbc-url", "jdbc:postgresql://no-such-host.invalid:5432/app");
        assertThat(unknown.exit()).isEqualTo(3);
        assertThat(unknown.err()).contains("unknown host no-such-host.invalid");
    }

    @Test
    void aBadRoleConfigurationIsNotABadSpec() throws IOException {
        Run shortToken = run("coordinator", "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/app", "--admin-token-file",
                file("token", "short"));
        assertThat(shortToken.exit()).as(shortToken.err()).isEqualTo(15);
        assertThat(shortToken.err()).contains("admin token must be at least 16 characters");
        Run badUrl = run("list", "--jdbc-url", "jdbc:mysql://h/app");
        assertThat(badUrl.exit()).isEqualTo(15);
        assertThat(badUrl.err()).contains("database URL must start with jdbc:postgresql:");
    }

    @Test
    void theCommandListShowsWholeSentences() {
        List<String> cut = new java.util.ArrayList<>();
        ConfigDefaultsTest.walk(Main.commandLine(), c -> {
            String[] description = c.getCommandSpec().usageMessage().description();
            String shown = description.length == 0 ? "" : description[0].strip();
            if (!shown.matches(".*[.)]$")) {
                cut.add(c.getCommandSpec().qualifiedName() + ": '" + shown + "'");
            }
        });
        assertThat(cut).as("the first description line, which the command list shows, ends a sentence").isEmpty();
        // demo's sentences: AllInOneCliTest in module toolkit; the runtime jar has neither demo nor bench
        assertThat(run("--help").out()).contains("coordinator").doesNotContainPattern("(?m)^  (demo|bench) ");
    }

    @Test
    void versionIsTheArtifactVersion() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        String version = pom.substring(pom.indexOf("<version>") + 9, pom.indexOf("</version>"));
        assertThat(run("--version").out().strip()).isEqualTo("shapeshift " + version);
        assertThat(run("worker", "--version").out().strip()).isEqualTo("shapeshift " + version);
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

    /** The assertions of the worker module's own parser (WorkerMain, gone), on the one way in: {@code shapeshift worker}. */
    @Test
    void workerParsesRepeatedMigrationsAndFlags() throws Exception {
        CommandLine cmd = Main.commandLine();
        cmd.parseArgs("worker", "--jdbc-url", "jdbc:postgresql://h/db", "--user", "u", "--bootstrap", "k:9092",
                "--worker-id", "w1", "--migration", "a", "--migration", "b", "--no-backfill",
                "--session-timeout-ms", "6000", "--lease-timeout-ms", "3000");
        WorkerCommand worker = (WorkerCommand) cmd.getSubcommands().get("worker").getCommand();
        Worker.Config config = worker.config();
        assertThat(config.migrations()).containsExactly("a", "b");
        assertThat(config.backfill()).isFalse();
        assertThat(config.sync()).isTrue();
        assertThat(config.sessionTimeout()).isEqualTo(Duration.ofSeconds(6));
        assertThat(config.leaseTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(worker.bootstrap).isEqualTo("k:9092");
        assertThat(worker.db.database().jdbcUrl()).isEqualTo("jdbc:postgresql://h/db");
        assertThat(worker.db.database().user()).isEqualTo("u");

        Run lease = run("worker", "--jdbc-url", "jdbc:postgresql://h/db", "--user", "u", "--bootstrap", "k",
                "--worker-id", "w", "--lease-timeout-ms", "1999");
        assertThat(lease.exit()).isEqualTo(2);
        assertThat(lease.err()).contains("--lease-timeout-ms").contains("at least 2000 ms");
        Run nothing = run("worker", "--jdbc-url", "jdbc:postgresql://h/db", "--user", "u", "--bootstrap", "k",
                "--worker-id", "w", "--no-sync", "--no-backfill");
        assertThat(nothing.exit()).isEqualTo(2);
        assertThat(nothing.err()).contains("nothing to do");
        Run bogus = run("worker", "--bootstrap", "k", "--worker-id", "w", "--bogus", "1");
        assertThat(bogus.exit()).isEqualTo(2);
        assertThat(bogus.err()).contains("--bogus");
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
