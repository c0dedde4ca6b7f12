package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.api.ApiTls;
import dev.shapeshift.coordinator.drive.DriveConfig;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.spec.DurationText;
import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shapeshift coordinator}: runs the coordinator role (HTTP API, dashboard, /metrics) until
 * stopped; with {@code --bootstrap} it also drives every active migration (docs/phases.md). Tokens come from files or the environment ({@code SHAPESHIFT_ADMIN_TOKEN},
 * {@code SHAPESHIFT_READ_TOKEN}), never from the command line, and are never printed.
 */
@Command(name = "coordinator", mixinStandardHelpOptions = true, description = "Run the coordinator: API, dashboard, metrics, the specs directory; with --bootstrap it drives the migrations.")
public final class CoordinatorCommand extends RoleCommand {
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

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT", description = "Kafka bootstrap servers; with it the "
            + "coordinator drives every active migration (expand, topics, chunks, reconcile, approvals, contract).")
    String bootstrap;

    @Option(names = "--partitions", paramLabel = "N", description = "Partitions of the topics the driver creates for a "
            + "migration, fixed for its life: the most workers that can share it (default 6).")
    int partitions = DriveConfig.DEFAULT_PARTITIONS;

    @Option(names = "--replication", paramLabel = "N", description = "Replication factor of the topics the driver creates (default 1).")
    short replication = 1;

    @Option(names = "--publication", paramLabel = "NAME", description = "The cdc-bridge's publication, for the clean-up "
            + "after a contract (default shapeshift_pub).")
    String publication;

    @Option(names = "--stall-after", paramLabel = "DURATION", description = "Report a migration stalled when its backfill "
            + "made no progress (not paused), or no cdc-bridge picked it up, for this long (default 10m).")
    String stallAfter = "10m";

    @Option(names = "--no-drive", description = "Serve the API only; do not drive migrations even with --bootstrap.")
    boolean noDrive;

    @Option(names = "--tls-cert-file", paramLabel = "FILE", description = "PEM certificate (chain) for HTTPS; with "
            + "--tls-key-file the port speaks HTTPS only (env SHAPESHIFT_TLS_CERT_FILE).")
    Path tlsCertFile;

    @Option(names = "--tls-key-file", paramLabel = "FILE", description = "PEM private key of --tls-cert-file, "
            + "unencrypted (env SHAPESHIFT_TLS_KEY_FILE).")
    Path tlsKeyFile;

    Map<String, String> env = System.getenv();

    @Override
    public Integer call() throws InterruptedException {
        kafkaSettings.applyAndCheck(noDrive ? null : bootstrap);
        Database database = db.database();
        DriveConfig drive = bootstrap == null || noDrive ? DriveConfig.OFF
                : DriveConfig.on(bootstrap, partitions).withReplication(replication)
                        .withPublication(publication)
                        .withStallAfter(stallAfter());
        Coordinator.Config config = new Coordinator.Config(bind, port, database,
                token(adminTokenFile, "SHAPESHIFT_ADMIN_TOKEN"), token(readTokenFile, "SHAPESHIFT_READ_TOKEN"), null, specsDir, drive,
                ApiTls.of(tlsCertFile, tlsKeyFile));
        PrometheusMeterRegistry registry = RoleMeters.registry("coordinator");
        CountDownLatch stopped = new CountDownLatch(1);
        try (Coordinator coordinator = Coordinator.start(config, registry, new AccessGate(new AccessWatch(database)))) {
            command.commandLine().getOut().println("coordinator listening on " + config.scheme() + "://" + bind + ":" + coordinator.port() + "/"
                    + (drive.enabled() ? "; driving migrations (one instance per catalog drives, the others stand by)"
                    : "; not driving migrations (no --bootstrap)"));
            command.commandLine().getOut().flush();
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "shapeshift-coordinator-stop"));
            stopped.await();
        }
        return 0;
    }

    private java.time.Duration stallAfter() {
        try {
            return DurationText.parse(stallAfter);
        } catch (IllegalArgumentException e) {
            throw new ShapeshiftException(ErrorCode.USAGE, "--stall-after: " + e.getMessage());
        }
    }

    private String token(Path file, String variable) {
        return Secrets.fileOrEnv(file, env, variable).map(String::strip).filter(v -> !v.isBlank()).orElse(null);
    }
}
