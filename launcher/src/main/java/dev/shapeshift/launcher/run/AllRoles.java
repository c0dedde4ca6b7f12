package dev.shapeshift.launcher.run;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.contract.Cleanup;
import dev.shapeshift.coordinator.drive.DriveConfig;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.ReplicationSlots;
import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.Quietly;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.launcher.Secrets;
import dev.shapeshift.worker.Worker;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every role in this process, for one source database: Kafka (the cluster given, or a broker of
 * its own whose data survives the process), the coordinator with its driver, HTTP API and
 * dashboard, the cdc-bridge and N workers. It decides nothing about a migration: the coordinator's
 * driver does, from the catalog, exactly as in a deployment of separate processes, so a process
 * killed at any point and started again continues from the catalog, the chunk checkpoints and the
 * stored offsets. Used by {@code shapeshift run} and the demo.
 */
public final class AllRoles implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AllRoles.class);
    private static final String TOKEN_FILE = "admin-token";

    /**
     * Validated at construction.
     *
     * @param database   the source database; its catalog is brought up to date at start
     * @param bootstrap  Kafka bootstrap servers; null = a broker of its own in {@code dataDir/kafka}
     * @param dataDir    the own broker's data and the dashboard's admin token ({@code dataDir/admin-token})
     * @param workers    worker threads (each one sync and one backfill consumer per migration)
     * @param partitions partitions of the topics of the migrations this process starts
     * @param bindHost   the HTTP server's interface
     * @param port       the HTTP port; 0 = any free port
     * @param heartbeat  the bridge's heartbeat interval (keeps lag measurable on an idle table)
     */
    public record Options(Database database, String bootstrap, Path dataDir, int workers, int partitions,
                          String bindHost, int port, Duration heartbeat) {
        public Options {
            if (database == null || dataDir == null) {
                throw invalid("a database and a data directory are required");
            }
            if (workers < 1 || partitions < 1) {
                throw invalid("--workers and --partitions must be at least 1, got " + workers + " and " + partitions);
            }
            if (port < 0 || port > 65535) {
                throw invalid("--port must be 0..65535 (0 = any free port), got " + port);
            }
            if (heartbeat == null || heartbeat.isNegative() || heartbeat.isZero()) {
                throw invalid("the heartbeat interval must be positive");
            }
        }
    }

    private final EmbeddedKafka kafka;
    private final String bootstrap;
    private final String adminToken;
    private final Coordinator coordinator;
    private final CdcBridge bridge;
    private final List<Worker> workers;
    private final Database database;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private AllRoles(Database database, EmbeddedKafka kafka, String bootstrap, String adminToken, Coordinator coordinator,
                     CdcBridge bridge, List<Worker> workers) {
        this.database = database;
        this.kafka = kafka;
        this.bootstrap = bootstrap;
        this.adminToken = adminToken;
        this.coordinator = coordinator;
        this.bridge = bridge;
        this.workers = workers;
    }

    /** Starts Kafka (if needed), the coordinator with its driver, the bridge and the workers, in that order. */
    public static AllRoles start(Options o, PrometheusMeterRegistry registry) {
        CatalogSchema.migrate(o.database());
        EmbeddedKafka kafka = o.bootstrap() == null ? EmbeddedKafka.startDurable(o.dataDir().resolve("kafka")) : null;
        String bootstrap = kafka != null ? kafka.bootstrapServers() : o.bootstrap();
        Coordinator coordinator = null;
        CdcBridge bridge = null;
        List<Worker> workers = new ArrayList<>();
        try {
            String token = adminToken(o.dataDir());
            Coordinator.Config config = new Coordinator.Config(o.bindHost(), o.port(), o.database(), token, null, null)
                    .withDrive(DriveConfig.on(bootstrap, o.partitions()));
            coordinator = Coordinator.start(config, registry, new AccessGate(new AccessWatch(o.database())));
            bridge = new CdcBridge(BridgeConfig.of(o.database(), bootstrap)
                    .withReplication((short) 1)
                    .withChangesPartitions(o.partitions())
                    .withHeartbeat(o.heartbeat()), registry);
            bridge.start();
            String prefix = "run-" + ProcessHandle.current().pid() + "-";
            for (int i = 1; i <= o.workers(); i++) {
                // No migration names: every active migration, re-read every 2 s.
                Worker w = new Worker(o.database(), bootstrap, Worker.Config.of(prefix + i, List.of())
                        .withWatchInterval(Duration.ofSeconds(2)), registry);
                w.start();
                workers.add(w);
            }
            log.info("all roles started bootstrap={} own_kafka={} port={} workers={}", bootstrap, kafka != null,
                    coordinator.port(), workers.size());
            return new AllRoles(o.database(), kafka, bootstrap, token, coordinator, bridge, workers);
        } catch (RuntimeException e) {
            new AllRoles(o.database(), kafka, bootstrap, null, coordinator, bridge, workers).close();
            throw e;
        }
    }

    public String bootstrapServers() {
        return bootstrap;
    }

    /** The coordinator's HTTP port. */
    public int port() {
        return coordinator.port();
    }

    /** The dashboard's and API's admin token (kept in {@code dataDir/admin-token}, readable by the owner only). */
    public String adminToken() {
        return adminToken;
    }

    /**
     * After a finished migration: stops the workers and the bridge (they hold the consumer groups,
     * the slot and the publication the driver's clean-up had to leave), then runs the same clean-up
     * as {@code shapeshift cleanup}, so this process leaves no replication slot retaining WAL on
     * the database. The slot and publication go only when no other active migration uses them.
     */
    public Cleanup.Result finish(String migration, String actor) {
        for (Worker w : workers) {
            closeQuietly(w, "worker");
        }
        closeQuietly(bridge, "bridge");
        return new Cleanup(database, bootstrap, null, ReplicationSlots::drop)
                .run(migration, actor, "shapeshift run: the migration finished and this process's roles stopped");
    }

    /** Stops the workers (their batches commit or roll back), the bridge, the coordinator, then Kafka. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (Worker w : workers) {
            closeQuietly(w, "worker");
        }
        closeQuietly(bridge, "bridge");
        closeQuietly(coordinator, "coordinator");
        closeQuietly(kafka, "kafka");
    }

    private static void closeQuietly(AutoCloseable c, String what) {
        Quietly.close(c, e -> log.warn("stopping {} failed error={}", what, e.toString()));
    }

    /** The admin token of this data directory: read, or made once (32 random bytes, hex) and kept 0600. */
    static String adminToken(Path dataDir) {
        Path file = dataDir.resolve(TOKEN_FILE);
        try {
            Files.createDirectories(dataDir);
            if (Files.exists(file)) {
                return Secrets.read(file);
            }
            byte[] bytes = new byte[32];
            new SecureRandom().nextBytes(bytes);
            String token = HexFormat.of().formatHex(bytes);
            Path tmp = dataDir.resolve(TOKEN_FILE + ".tmp");
            Files.writeString(tmp, token + "\n");
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                log.debug("no POSIX permissions on this file system file={}", tmp);
            }
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return token;
        } catch (IOException e) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "cannot use the data directory " + dataDir + ": "
                    + e.getMessage() + " (give another one with --data-dir)", e);
        }
    }

    private static ShapeshiftException invalid(String message) {
        return new ShapeshiftException(ErrorCode.CONFIG_INVALID, "run: " + message);
    }
}
