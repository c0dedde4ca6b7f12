package dev.shapeshift.worker;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.MigrationRecord;
import io.soabase.recordbuilder.core.RecordBuilder;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.Quietly;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.worker.backfill.BackfillConfig;
import dev.shapeshift.worker.backfill.ChunkConsumer;
import dev.shapeshift.worker.sync.SyncConfig;
import dev.shapeshift.worker.sync.SyncConsumer;
import dev.shapeshift.worker.sync.SyncMetrics;
import dev.shapeshift.worker.throttle.SyncBacklog;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker role: for each of its migrations, one sync consumer (changes → refresh) and one
 * backfill consumer (chunks → copy) on their own threads, sharing one {@link MeterRegistry}. The
 * backfill yields to the sync: it sees the sync consumer's backlog through {@link SyncBacklog}.
 *
 * <p>With no migration names it serves every active migration (phase {@code expanded} or a phase
 * where sync runs) and re-reads the catalog every {@code watchInterval}: it starts on migrations
 * that became active and stops on those that left (rolled back, contracted). A consumer thread that
 * dies of an unexpected error is restarted after {@code restartDelay}; nothing is lost by that,
 * since offsets and chunk checkpoints are only committed after the database commit.
 *
 * <p>Why one class of ~340 lines: ~55 lines are {@link Config}, the role's validated options
 * with their defaults, changed copies through the generated {@code withX} methods (the launcher's flags map onto
 * it one to one); the rest is one small state machine — the lanes per migration, started,
 * restarted and stopped by the watch tick under one lock — that reads best in one place. The consumers themselves are {@link SyncConsumer}
 * and {@link ChunkConsumer}.
 */
public final class Worker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    /**
     * @param workerId       this process's name (Kafka client id, chunk lease owner, logs); unique per process
     * @param migrations     the migrations to serve; empty = every active migration, re-read every watchInterval
     * @param sync           run sync consumers (default true)
     * @param backfill       run backfill consumers (default true)
     * @param sessionTimeout Kafka session timeout of both consumers (default 10s, min 6s)
     * @param leaseTimeout   a chunk whose heartbeat is older may be taken by another worker (default 30s, min 2s):
     *                       how long a killed worker's chunk waits before another worker resumes it
     * @param watchInterval  catalog re-read (all-active mode) and status line interval (default 10s)
     * @param restartDelay   pause before a consumer thread that died is started again (default 5s)
     */
    @RecordBuilder
    public record Config(String workerId, List<String> migrations, boolean sync, boolean backfill,
                         Duration sessionTimeout, Duration leaseTimeout, Duration watchInterval,
                         Duration restartDelay) implements WorkerConfigBuilder.With {
        public Config {
            if (workerId == null || workerId.isBlank()) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "a worker needs a worker id (--worker-id)");
            }
            migrations = List.copyOf(migrations);
            if (!sync && !backfill) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID,
                        "a worker with both --no-sync and --no-backfill has nothing to do");
            }
            if (sessionTimeout.compareTo(MIN_SESSION_TIMEOUT) < 0) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "Kafka session timeout (--session-timeout-ms) "
                        + "must be at least " + MIN_SESSION_TIMEOUT.toMillis() + " ms (the broker's minimum), got "
                        + sessionTimeout.toMillis() + " ms");
            }
            if (leaseTimeout.compareTo(MIN_LEASE_TIMEOUT) < 0) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "chunk lease timeout (--lease-timeout-ms) must be "
                        + "at least " + MIN_LEASE_TIMEOUT.toMillis() + " ms (a running chunk's heartbeat is written "
                        + "once per sub-batch and every 2 s while it waits), got " + leaseTimeout.toMillis() + " ms");
            }
            if (watchInterval.isNegative() || watchInterval.isZero() || restartDelay.isNegative()) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "watch interval must be positive and restart "
                        + "delay not negative, got " + watchInterval + " and " + restartDelay);
            }
        }

        public static final Duration MIN_SESSION_TIMEOUT = Duration.ofSeconds(6);
        public static final Duration MIN_LEASE_TIMEOUT = Duration.ofSeconds(2);

        public static Config of(String workerId, List<String> migrations) {
            return new Config(workerId, migrations, true, true, Duration.ofSeconds(10),
                    BackfillConfig.DEFAULT_LEASE_TIMEOUT, Duration.ofSeconds(10), Duration.ofSeconds(5));
        }

        boolean allActive() {
            return migrations.isEmpty();
        }
    }

    private final Database db;
    private final String bootstrapServers;
    private final Config config;
    private final MeterRegistry registry;
    private final Catalog catalog;
    private final Map<String, Lane> lanes = new LinkedHashMap<>();
    private final ScheduledExecutorService watch;
    private volatile boolean closing;

    public Worker(Database db, String bootstrapServers, Config config, MeterRegistry registry) {
        this.db = db;
        this.bootstrapServers = bootstrapServers;
        this.config = config;
        this.registry = registry;
        this.catalog = new Catalog(db, "worker");
        this.watch = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "worker-watch-" + config.workerId());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts the consumers. Named migrations are resolved first and a bad one fails the start
     * (nothing is started); in all-active mode a migration that does not resolve is logged,
     * noted in its catalog message, and tried again on the next catalog read.
     */
    public synchronized void start() {
        log.info("worker starting worker={} migrations={} sync={} backfill={}", config.workerId(),
                config.allActive() ? "all-active" : config.migrations(), config.sync(), config.backfill());
        CatalogSchema.migrate(db); // every role may start first (docs/operations.md, "Start order")
        if (config.allActive()) {
            rescan();
        } else {
            Map<String, ResolvedSpec> resolved = new LinkedHashMap<>();
            for (String m : config.migrations()) {
                resolved.put(m, CatalogSpec.resolve(db, m));
            }
            resolved.forEach(this::startLane);
        }
        long every = config.watchInterval().toMillis();
        watch.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
    }

    /** The migrations this worker serves right now. */
    public synchronized Set<String> migrations() {
        return Set.copyOf(lanes.keySet());
    }

    /** The running sync consumer of a migration (replaced when its thread is restarted). */
    public synchronized Optional<SyncConsumer> sync(String migration) {
        return Optional.ofNullable(lanes.get(migration)).map(l -> l.sync.get());
    }

    /** The running backfill consumer of a migration. */
    public synchronized Optional<ChunkConsumer> backfill(String migration) {
        return Optional.ofNullable(lanes.get(migration)).map(l -> l.backfill.get());
    }

    /** The sync meters of a migration (apply latency, lag, backlog …). */
    public synchronized Optional<SyncMetrics> syncMetrics(String migration) {
        return Optional.ofNullable(lanes.get(migration)).map(l -> l.metrics);
    }

    private void tick() {
        try {
            if (config.allActive()) {
                rescan();
            }
            status();
        } catch (RuntimeException e) {
            log.warn("worker watch failed worker={} error={}", config.workerId(), e.getMessage());
        }
    }

    private synchronized void rescan() {
        if (closing) {
            return;
        }
        List<MigrationRecord> active = catalog.list().stream()
                .filter(m -> m.phase() == Phase.EXPANDED || m.phase().syncActive()).toList();
        Set<String> names = Set.copyOf(active.stream().map(MigrationRecord::name).toList());
        for (String gone : List.copyOf(lanes.keySet())) {
            if (!names.contains(gone)) {
                log.info("migration no longer active, stopping its consumers migration={} worker={}", gone,
                        config.workerId());
                lanes.remove(gone).close();
            }
        }
        for (MigrationRecord m : active) {
            if (!lanes.containsKey(m.name())) {
                try {
                    startLane(m.name(), CatalogSpec.resolve(db, m.name()));
                } catch (ShapeshiftException e) {
                    log.error("cannot serve migration migration={} worker={} code={} error={}", m.name(),
                            config.workerId(), e.code(), e.getMessage());
                }
            }
        }
    }

    private synchronized void startLane(String migration, ResolvedSpec resolved) {
        Lane lane = new Lane(migration, resolved);
        lanes.put(migration, lane);
        lane.start();
    }

    private synchronized void status() {
        for (Lane l : lanes.values()) {
            SyncConsumer s = l.sync.get();
            if (s != null) {
                log.info("sync migration={} worker={} state={} lag_s={} backlog={} events={} rows_written={}",
                        l.migration, config.workerId(), s.state(), String.format("%.1f", l.metrics.lag()), s.backlog(),
                        (long) l.metrics.events(), (long) l.metrics.rowsWritten());
            }
        }
    }

    /** Stops every consumer: the batch or sub-batch in hand commits or rolls back, leases are given back. */
    @Override
    public void close() {
        List<Lane> toClose;
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            toClose = List.copyOf(lanes.values());
            lanes.clear();
        }
        watch.shutdownNow();
        log.info("worker stopping worker={} migrations={}", config.workerId(), toClose.size());
        toClose.forEach(Lane::close);
        log.info("worker stopped worker={}", config.workerId());
    }

    /** One migration's consumers and their threads. */
    private final class Lane {
        final String migration;
        final ResolvedSpec resolved;
        final SyncMetrics metrics;
        final AtomicReference<SyncConsumer> sync = new AtomicReference<>();
        final AtomicReference<ChunkConsumer> backfill = new AtomicReference<>();
        Thread syncThread;
        Thread backfillThread;
        volatile boolean stopping;

        Lane(String migration, ResolvedSpec resolved) {
            this.migration = migration;
            this.resolved = resolved;
            this.metrics = config.sync() ? new SyncMetrics(registry, migration, config.workerId()) : null;
        }

        void start() {
            if (config.sync()) {
                SyncConfig sc = SyncConfig.defaults(bootstrapServers, config.workerId())
                        .withSessionTimeout(config.sessionTimeout());
                syncThread = supervise("sync", sync, () -> new SyncConsumer(sc, db, catalog, resolved, metrics));
            }
            if (config.backfill()) {
                BackfillConfig d = BackfillConfig.defaults(config.workerId());
                BackfillConfig bc = new BackfillConfig(d.workerId(), config.leaseTimeout(), d.limits(), d.signalRefresh(),
                        config.sessionTimeout(), d.statusInterval());
                SyncBacklog backlog = () -> {
                    SyncConsumer s = sync.get();
                    return s == null ? 0 : s.backlog();
                };
                backfillThread = supervise("backfill", backfill,
                        () -> new ChunkConsumer(db, bootstrapServers, resolved, bc, backlog));
            }
            log.info("worker serving migration={} worker={} mode={} sync={} backfill={}", migration,
                    config.workerId(), resolved.spec().mode().label(), config.sync(), config.backfill());
        }

        /** Runs a fresh consumer on a thread, again after {@code restartDelay} if one dies of an error. */
        private <C extends Runnable & AutoCloseable> Thread supervise(String role, AtomicReference<C> current,
                                                                     Supplier<C> create) {
            Thread t = new Thread(() -> {
                while (!stopping) {
                    C c = create.get();
                    current.set(c);
                    if (stopping) {
                        break;
                    }
                    try {
                        c.run();
                    } catch (RuntimeException e) {
                        log.error("{} consumer died, restarting in {}ms migration={} worker={} error={}", role,
                                config.restartDelay().toMillis(), migration, config.workerId(), e.toString(), e);
                    }
                    sleep(config.restartDelay());
                }
            }, role + "-" + migration + "-" + config.workerId());
            t.start();
            return t;
        }

        void close() {
            stopping = true;
            closeQuietly(backfill.get());
            closeQuietly(sync.get());
            join(backfillThread);
            join(syncThread);
            log.info("worker stopped serving migration={} worker={}", migration, config.workerId());
        }

        private void closeQuietly(AutoCloseable c) {
            Quietly.close(c, e -> log.warn("closing a consumer failed migration={} error={}", migration, e.toString()));
        }

        private void join(Thread t) {
            if (t == null) {
                return;
            }
            try {
                t.join(TimeUnit.SECONDS.toMillis(40));
                if (t.isAlive()) {
                    log.warn("consumer thread did not stop in 40s thread={}", t.getName());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void sleep(Duration d) {
            long until = System.nanoTime() + d.toNanos();
            while (!stopping && System.nanoTime() < until) {
                try {
                    Thread.sleep(Math.min(100, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
