package dev.shapeshift.coordinator.drive;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Leadership;
import dev.shapeshift.db.Sql;
import dev.shapeshift.phase.Phase;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's control loop: while this instance holds the driver leadership (one per
 * catalog, {@link Leadership} {@code shapeshift.coordinator/driver}), one scheduler thread looks at every migration each
 * {@code tick} and hands its next step to a {@link MigrationDriver} on a step thread. A migration
 * has at most one step in flight, so a long step (an expand waiting for a lock, planning, a
 * reconcile pass) delays only its own migration. Standbys try the lock every tick; losing the lock
 * connection stops driving at once (running reconcile passes stop at their next range).
 */
public final class DriveLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DriveLoop.class);
    /** The audit action written for every migration a coordinator instance starts driving. */
    public static final String TAKEOVER_ACTION = "driver leadership acquired";
    /** The audit action written, once the catalog answers again, for every migration an instance stopped driving. */
    public static final String LOSS_ACTION = "driver leadership lost";

    private final Database db;
    private final Catalog catalog;
    private final Transitions transitions;
    private final DriveConfig config;
    private final MeterRegistry registry;
    private final Leadership leadership;
    private final String instance;
    private final HaltPoint halt;
    private final ScheduledExecutorService ticker;
    private final ExecutorService steps;
    private final Map<String, MigrationDriver> drivers = new ConcurrentHashMap<>();
    private final Map<String, Future<?>> inFlight = new ConcurrentHashMap<>();
    private final Set<String> finished = ConcurrentHashMap.newKeySet();
    private final AtomicInteger leader = new AtomicInteger();
    private volatile boolean leading;
    private volatile boolean closing;
    /** What to audit about a lost leadership once the catalog answers again (null: nothing pending). */
    private volatile String pendingLoss;

    private DriveLoop(Database db, Transitions transitions, DriveConfig config, MeterRegistry registry) {
        this.db = db;
        this.catalog = new Catalog(db, "coordinator");
        this.transitions = transitions;
        this.config = config;
        this.registry = registry;
        this.leadership = new Leadership(db, "shapeshift.coordinator/driver", "coordinator-leader");
        // checked on its own thread: a driver step stuck behind a partition must not delay noticing the loss
        this.leadership.checkEvery(java.time.Duration.ofSeconds(1));
        this.instance = instance();
        this.halt = HaltPoint.fromEnvironment(catalog, instance);
        AtomicInteger n = new AtomicInteger();
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "shapeshift-driver"));
        this.steps = Executors.newCachedThreadPool(r -> daemon(r, "shapeshift-driver-step-" + n.incrementAndGet()));
        Gauge.builder("shapeshift.driver.leader", leader, AtomicInteger::get)
                .description("1 while this coordinator drives the migrations (holds the driver lock)").register(registry);
    }

    /** Starts ticking; {@code transitions} must carry the production gates (the contract gate included). */
    public static DriveLoop start(Database db, Transitions transitions, DriveConfig config, MeterRegistry registry) {
        DriveLoop loop = new DriveLoop(db, transitions, config, registry);
        loop.ticker.scheduleWithFixedDelay(loop::tick, 0, config.tick().toMillis(), TimeUnit.MILLISECONDS);
        log.info("migration driver started instance={} bootstrap={} partitions={} tick_ms={}", loop.instance,
                config.bootstrapServers(), config.partitions(), config.tick().toMillis());
        return loop;
    }

    /** Whether this instance currently holds the driver leadership. */
    public boolean leading() {
        return leading;
    }

    private void tick() {
        try {
            boolean leads = lead();
            reportLoss();
            if (!leads) {
                return;
            }
            List<MigrationRecord> all = catalog.list();
            Set<String> present = new HashSet<>();
            for (MigrationRecord m : all) {
                present.add(m.name());
                if (m.phase() == Phase.ROLLED_BACK || finished.contains(m.name())) {
                    continue;
                }
                submit(m.name());
            }
            drivers.keySet().retainAll(present);
            finished.retainAll(present);
        } catch (RuntimeException e) {
            log.warn("driver tick failed error={}", e.toString());
        }
    }

    /** Acquires, keeps or loses the leadership; true while this instance should drive. */
    private boolean lead() {
        if (closing) {
            return false;
        }
        if (leading && !leadership.held()) {
            leading = false;
            leader.set(0);
            drivers.clear();
            finished.clear();
            pendingLoss = "coordinator instance " + instance + " lost the driver leadership at " + Instant.now() + ": "
                    + leadership.lastLoss() + "; it stopped driving (a standby, or this instance, takes over once the "
                    + "database releases the lock)";
            log.warn("driver leadership lost: driving stops, a standby takes over reason={}", leadership.lastLoss());
        }
        if (!leading && leadership.tryAcquire()) {
            leading = true;
            leader.set(1);
            auditTakeover();
        }
        return leading;
    }

    private void submit(String name) {
        Future<?> running = inFlight.get(name);
        if (running != null && !running.isDone()) {
            return;
        }
        MigrationDriver driver = drivers.computeIfAbsent(name, n ->
                new MigrationDriver(n, db, transitions, config, registry, () -> closing || !leading, halt));
        if (Instant.now().isBefore(driver.notBefore())) {
            return;
        }
        inFlight.put(name, steps.submit(() -> {
            try {
                if (driver.tick().kind() == Step.Kind.DONE) {
                    finished.add(name);
                }
            } catch (RuntimeException e) {
                log.warn("driver step failed migration={} error={}", name, e.toString());
            }
        }));
    }

    /**
     * Audits a lost leadership on every migration still driven, once the catalog answers (during a
     * partition it does not: the gauge {@code shapeshift.driver.leader} and the log say so then).
     */
    private void reportLoss() {
        String loss = pendingLoss;
        if (loss == null) {
            return;
        }
        try {
            catalog.inTransaction("auditing the lost driver leadership", c -> {
                return Sql.update(c, "INSERT INTO shapeshift.audit (migration, actor, action, "
                        + "reason) SELECT m.name, ?, ?, ? FROM shapeshift.migration m WHERE m.phase <> ? AND NOT EXISTS "
                        + "(SELECT 1 FROM shapeshift.audit a WHERE a.migration = m.name AND a.action = ?)",
                        instance, LOSS_ACTION, loss, Phase.ROLLED_BACK.label(), Step.CLEANUP_ACTION);
            });
            pendingLoss = null;
        } catch (RuntimeException e) {
            log.debug("auditing the lost driver leadership failed, retried next tick error={}", e.toString());
        }
    }

    /**
     * Writes one audit entry per migration this instance now drives (every one not rolled back and
     * not cleaned up after its contract), naming the instance and the phase it took the migration
     * over in, so {@code shapeshift audit} shows each takeover. A failure to write it is logged and
     * does not stop the driving.
     */
    private void auditTakeover() {
        try {
            List<String> taken = catalog.inTransaction("auditing the driver takeover", c -> Sql.list(c, "INSERT INTO shapeshift.audit (migration, actor, action, "
                        + "reason) SELECT m.name, ?, ?, 'coordinator instance ' || ? || ' took over driving this migration "
                        + "in phase ' || m.phase FROM shapeshift.migration m WHERE m.phase <> ? AND NOT EXISTS (SELECT 1 "
                        + "FROM shapeshift.audit a WHERE a.migration = m.name AND a.action = ?) ORDER BY m.name "
                        + "RETURNING migration", rs -> rs.getString(1),
                        instance, TAKEOVER_ACTION, instance, Phase.ROLLED_BACK.label(), Step.CLEANUP_ACTION));
            log.warn("driver leadership acquired instance={} migrations_taken_over={}", instance, taken);
        } catch (RuntimeException e) {
            log.warn("driver leadership acquired instance={}; auditing the takeover failed error={}", instance, e.toString());
        }
    }

    /** This process as the audit names it: {@code coordinator@<host>/<pid>} ({@code HOSTNAME} is the pod name on Kubernetes). */
    static String instance() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                host = "unknown-host";
            }
        }
        return "coordinator@" + host + "/" + ProcessHandle.current().pid();
    }

    @Override
    public void close() {
        closing = true;
        ticker.shutdownNow();
        steps.shutdown();
        try {
            if (!steps.awaitTermination(30, TimeUnit.SECONDS)) {
                steps.shutdownNow();
                log.warn("driver steps still running after 30s were interrupted");
            }
        } catch (InterruptedException e) {
            steps.shutdownNow();
            Thread.currentThread().interrupt();
        }
        leading = false;
        leader.set(0);
        leadership.close();
        log.info("migration driver stopped");
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
