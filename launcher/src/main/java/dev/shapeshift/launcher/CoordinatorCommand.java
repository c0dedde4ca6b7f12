package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shapeshift coordinator}: runs the coordinator role (HTTP API, dashboard, /metrics) until
 * stopped. Tokens come from files or the environment ({@code SHAPESHIFT_ADMIN_TOKEN},
 * {@code SHAPESHIFT_READ_TOKEN}), never from the command line, and are never printed.
 */
@Command(name = "coordinator", mixinStandardHelpOptions = true, description = "Run the coordinator: API, dashboard, metrics, the specs directory.")
public final class CoordinatorCommand implements Callable<Integer> {
    @Mixin
    DbOptions db = new DbOptions();

    @Option(names = "--bind", paramLabel = "HOST", description = "Interface to listen on (default 127.0.0.1).")
    String bind = "127.0.0.1";

    @Option(names = "--port", paramLabel = "PORT", description = "HTTP port (default 8470; 0 = any free port).")
    int port = 8470;

    @Option(names = "--admin-token-file", paramLabel = "FILE", description = "File holding the admin token (else env SHAPESHIFT_ADMIN_TOKEN).")
    Path adminTokenFile;

    @Option(names = "--read-token-file", paramLabel = "FILE", description = "File holding the read-only token (else env SHAPESHIFT_READ_TOKEN; optional).")
    Path readTokenFile;

    @Option(names = "--specs-dir", paramLabel = "DIR", description = "Register the spec files (*.yaml, *.yml) of this "
            + "directory at start and every 5 s; refused files show in GET /api/specs and the log.")
    Path specsDir;

    Map<String, String> env = System.getenv();

    @Spec
    CommandSpec command;

    @Override
    public Integer call() throws InterruptedException {
        Database database = db.database();
        Coordinator.Config config = new Coordinator.Config(bind, port, database,
                token(adminTokenFile, "SHAPESHIFT_ADMIN_TOKEN"), token(readTokenFile, "SHAPESHIFT_READ_TOKEN"), null, specsDir);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        CountDownLatch stopped = new CountDownLatch(1);
        try (Coordinator coordinator = Coordinator.start(config, registry, new AccessGate(new AccessWatch(database)))) {
            command.commandLine().getOut().println("coordinator listening on http://" + bind + ":" + coordinator.port() + "/");
            command.commandLine().getOut().flush();
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "shapeshift-coordinator-stop"));
            stopped.await();
        }
        return 0;
    }

    private String token(Path file, String variable) {
        String value = file != null ? read(file) : env.get(variable);
        return value == null || value.isBlank() ? null : value.strip();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new ShapeshiftException(ErrorCode.UNREACHABLE, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
