package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Every option also from SHAPESHIFT_<OPTION> and from the configuration file; the command line wins. */
class ConfigDefaultsTest {
    /** Environment variables that carry values, not options: they must not collide with an option's. */
    static final Set<String> SECRETS = Set.of("SHAPESHIFT_DB_PASSWORD", "SHAPESHIFT_ADMIN_TOKEN", "SHAPESHIFT_READ_TOKEN",
            ConfigDefaults.CONFIG_VARIABLE);

    @TempDir
    Path home;

    private CommandLine parse(Map<String, String> env, String... args) {
        CommandLine cmd = Main.commandLine(env, home);
        cmd.parseArgs(args);
        return cmd;
    }

    private static <T> T command(CommandLine cmd, String... path) {
        CommandLine c = cmd;
        for (String p : path) {
            c = c.getSubcommands().get(p);
        }
        return c.getCommand();
    }

    @Test
    void optionsComeFromTheEnvironmentByOneNamingRule() {
        Map<String, String> env = Map.of("SHAPESHIFT_JDBC_URL", "jdbc:postgresql://db/app", "SHAPESHIFT_DB_USER", "ops",
                "SHAPESHIFT_BOOTSTRAP", "kafka:9092", "SHAPESHIFT_LEASE_TIMEOUT_MS", "4000", "SHAPESHIFT_NO_SYNC", "true",
                "SHAPESHIFT_OUTPUT", "json");
        WorkerCommand worker = command(parse(env, "worker", "--worker-id", "w1"), "worker");
        assertThat(worker.db.jdbcUrl).isEqualTo("jdbc:postgresql://db/app");
        assertThat(worker.db.user).isEqualTo("ops");
        assertThat(worker.bootstrap).as("a required option satisfied from the environment").isEqualTo("kafka:9092");
        assertThat(worker.leaseTimeoutMs).isEqualTo(4000);
        assertThat(worker.noSync).isTrue();
        StatusCommand status = command(parse(env, "status"), "status");
        assertThat(status.output.json()).isTrue();
        CleanupCommand cleanup = command(parse(env, "cleanup", "m", "--reason", "r"), "cleanup");
        assertThat(cleanup.bootstrapServers).as("cleanup's Kafka follows the rule too").isEqualTo("kafka:9092");

        WorkerCommand given = command(parse(env, "worker", "--worker-id", "w1", "--bootstrap", "other:9092"), "worker");
        assertThat(given.bootstrap).as("the command line wins").isEqualTo("other:9092");
    }

    @Test
    void optionsComeFromTheConfigurationFileBelowTheEnvironment() throws IOException {
        Path file = home.resolve("conf.properties");
        Files.writeString(file, """
                jdbc-url=jdbc:postgresql://from-file/app
                bootstrap=generic:9092
                worker.bootstrap=worker-only:9092
                backfill.status.output=json
                """);
        Map<String, String> env = new HashMap<>(Map.of(ConfigDefaults.CONFIG_VARIABLE, file.toString()));
        WorkerCommand worker = command(parse(env, "worker", "--worker-id", "w1"), "worker");
        assertThat(worker.db.jdbcUrl).isEqualTo("jdbc:postgresql://from-file/app");
        assertThat(worker.bootstrap).as("the command's own key wins").isEqualTo("worker-only:9092");
        BridgeCommand bridge = command(parse(env, "cdc-bridge"), "cdc-bridge");
        assertThat(bridge.bootstrap).isEqualTo("generic:9092");
        BackfillCommand.Status status = command(parse(env, "backfill", "status", "m"), "backfill", "status");
        assertThat(status.output.json()).isTrue();
        assertThat(((StatusCommand) command(parse(env, "status"), "status")).output.json()).isFalse();

        env.put("SHAPESHIFT_BOOTSTRAP", "env:9092");
        assertThat(((WorkerCommand) command(parse(env, "worker", "--worker-id", "w1"), "worker")).bootstrap)
                .as("the environment wins over the file").isEqualTo("env:9092");

        Files.writeString(home.resolve(".shapeshift.properties"), "jdbc-url=jdbc:postgresql://home/app\n");
        assertThat(((ListCommand) command(parse(Map.of(), "list"), "list")).db.jdbcUrl)
                .as("~/.shapeshift.properties without SHAPESHIFT_CONFIG").isEqualTo("jdbc:postgresql://home/app");
    }

    @Test
    void aMissingConfigurationFileIsAConfigurationError() {
        StringWriter err = new StringWriter();
        try {
            Main.commandLine(Map.of(ConfigDefaults.CONFIG_VARIABLE, home.resolve("nope.properties").toString()), home);
            throw new AssertionError("expected a configuration error");
        } catch (dev.shapeshift.error.ShapeshiftException e) {
            assertThat(e.code().exitCode()).isEqualTo(15);
            assertThat(e.getMessage()).contains("nope.properties").contains("SHAPESHIFT_CONFIG");
        }
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void noOptionSharesAVariableWithAnotherOptionOfItsCommandOrWithASecret() {
        List<String> clashes = new ArrayList<>();
        walk(Main.commandLine(Map.of(), home), cmd -> {
            Map<String, String> seen = new HashMap<>();
            for (OptionSpec o : cmd.getCommandSpec().options()) {
                if (!ConfigDefaults.configurable(o)) {
                    continue;
                }
                String variable = ConfigDefaults.variable(o);
                String previous = seen.put(variable, o.longestName());
                if (previous != null || SECRETS.contains(variable)) {
                    clashes.add(cmd.getCommandSpec().qualifiedName() + " " + o.longestName() + " -> " + variable);
                }
            }
        });
        assertThat(clashes).isEmpty();
    }

    static void walk(CommandLine cmd, java.util.function.Consumer<CommandLine> visit) {
        visit.accept(cmd);
        cmd.getSubcommands().values().forEach(c -> walk(c, visit));
    }

}
