package dev.shapeshift.launcher;

import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.WorkerProcess;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code shapeshift worker}: the stateless worker role (sync and backfill consumers) until SIGTERM. */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Run a worker: refresh changed keys (sync) and copy chunks (backfill) for active migrations.")
public final class WorkerCommand extends RoleCommand.OnKafka {
    @Option(names = "--worker-id", paramLabel = "ID", description = "Unique per process (default: the host name).")
    String workerId;

    @Option(names = "--migration", paramLabel = "NAME", description = "Serve only these migrations (repeatable; default: every active one).")
    List<String> migrations = List.of();

    @Option(names = "--no-sync", description = "Do not run sync consumers.")
    boolean noSync;

    @Option(names = "--no-backfill", description = "Do not run backfill consumers.")
    boolean noBackfill;

    @Option(names = "--session-timeout-ms", paramLabel = "MS", defaultValue = "10000",
            description = "Kafka session timeout: how soon a dead worker's partitions move to the others "
                    + "(min 6000). Default: ${DEFAULT-VALUE}")
    long sessionTimeoutMs;

    @Option(names = "--lease-timeout-ms", paramLabel = "MS", defaultValue = "30000",
            description = "Chunk lease timeout: a running chunk whose heartbeat is older may be taken by another "
                    + "worker, so a killed worker's chunk resumes after about this long (min 2000). Default: ${DEFAULT-VALUE}")
    long leaseTimeoutMs;

    @Mixin
    MetricsOptions metrics = new MetricsOptions();

    @Override
    public Integer call() throws UnknownHostException {
        applyKafkaSettings();
        Worker.Config config = config();
        PrometheusMeterRegistry registry = RoleMeters.registry("worker");
        try (MetricsEndpoint endpoint = metrics.start(registry)) {
            return WorkerProcess.run(db.database(), bootstrap, config, registry);
        }
    }

    /** The worker's configuration from the options; a bad value is a usage error (exit 2) naming the option. */
    Worker.Config config() throws UnknownHostException {
        String id = workerId != null ? workerId : InetAddress.getLocalHost().getHostName();
        try {
            return Worker.Config.of(id, migrations).withSync(!noSync)
                    .withBackfill(!noBackfill)
                    .withSessionTimeout(Duration.ofMillis(sessionTimeoutMs))
                    .withLeaseTimeout(Duration.ofMillis(leaseTimeoutMs));
        } catch (ShapeshiftException e) {
            throw new ParameterException(command.commandLine(), e.getMessage(), e);
        }
    }
}
