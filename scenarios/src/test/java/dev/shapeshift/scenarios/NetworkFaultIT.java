package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.BridgeState;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.Knob;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Leadership;
import dev.shapeshift.coordinator.drive.DriveLoop;
import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.embedded.FaultProxy;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.worker.Worker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 20, network faults, three cases under the application's writes, each ending with this
 * test's own check target = transform(source) ({@link DriverIT#MISMATCHES}); every partition is
 * half-open (packets swallowed, nothing reset: {@link FaultProxy#blackhole()}), the hardest kind to
 * notice. Measured times are printed ({@code NETWORK FAULT …}) and reported in docs/scenarios.md
 * ("Network faults and failover", with the crash matrix), never asserted. Case 2 (bridge ↔ Kafka)
 * runs only with {@code -Dshapeshift.test.longFaults=true}.
 *
 * <p>Case 1: the workers ↔ PostgreSQL link goes silent (packets swallowed, no
 * reset: a half-open partition, made by {@link FaultProxy} in front of the server) in the middle of
 * the backfill, under the application's writes, for longer than the chunk lease (30 s) and the
 * worker's Kafka session timeout (10 s), then heals. Everything else (the application, the
 * bridge, the coordinator, Kafka) keeps its direct links.
 *
 * <p>Checked: the workers give up their half-open sessions during the partition (the proxy sees
 * them close their side; the worker sessions' {@code socketTimeout}, here 15 s from the JDBC URL
 * — Shapeshift's default is {@link Database#WORKER_SOCKET_TIMEOUT}), and after the heal the
 * driver reaches verified and target = transform(source) by this test's own query
 * ({@link DriverIT#MISMATCHES}). Negative control (run by hand, 2026-12-06): with
 * {@code socketTimeout=0} in the URL the workers sat in their reads for the whole partition and
 * the first assertion failed (0 closes).
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class NetworkFaultIT {
    private static final String NAME = "net-fault";
    private static final Duration PARTITION = Duration.ofSeconds(35);
    private static final int SOCKET_TIMEOUT_S = 15;

    @Test
    void aHalfOpenPartitionBetweenWorkersAndPostgresLongerThanTheLeaseThenHealed(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        String dbName = pg.createDatabase("net_fault");
        Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        Catalog catalog = cappedMigration(db, NAME);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (FaultProxy proxy = new FaultProxy(pg.host(), pg.port());
             DriverIT.AppWrites app = new DriverIT.AppWrites(DriverIT.appRole(db, pg, dbName)).start();
             Coordinator coordinator = DriverIT.coordinator(db, kafka, registry);
             CdcBridge bridge = new CdcBridge(DriverIT.bridge(DriverIT.bridgeRole(db, pg, dbName), kafka), registry)) {
            bridge.start();
            Database throughProxy = throughProxy(proxy, pg, dbName, "?socketTimeout=" + SOCKET_TIMEOUT_S);
            List<Worker> workers = DriverIT.workers(throughProxy, kafka, NAME, registry);
            try {
                await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(300)).until(() -> DriverIT.count(db,
                        "SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + NAME + "' AND status = 'done'") >= 1);
                long doneAtPartition = DriverIT.count(db, "SELECT count(*) FROM shapeshift.chunk WHERE migration = '"
                        + NAME + "' AND status = 'done'");
                long chunks = DriverIT.count(db, "SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + NAME + "'");
                assertThat(doneAtPartition).as("the partition lands mid-backfill").isLessThan(chunks);

                proxy.blackhole();
                Thread.sleep(PARTITION.toMillis());
                long closes = proxy.clientClosesDuringBlackhole();
                // The backfill and sync sessions carry idle_in_transaction_session_timeout in their start-up
                // packet (Database.connect(role, idleInTransaction)); the worker's catalog pool does not.
                long workerSessions = proxy.clientClosesDuringBlackhole("idle_in_transaction_session_timeout");
                long noticedMs = proxy.millisUntilFirstClientClose();
                proxy.heal();
                System.out.printf("NETWORK FAULT worker<->postgres half-open for %d s: %d session(s) closed by the "
                        + "worker process during it, %d of them backfill/sync sessions (socketTimeout %d s), the first "
                        + "close after %d ms; chunks done %d/%d at the partition%n", PARTITION.toSeconds(), closes,
                        workerSessions, SOCKET_TIMEOUT_S, noticedMs, doneAtPartition, chunks);
                assertThat(workerSessions).as("the backfill and sync sessions gave up their half-open connections "
                        + "during the partition, not at the heal").isPositive();

                catalog.putSetting(NAME, Knob.MAX_ROWS_PER_SECOND.key(), "0", "test", "uncap after the partition");
                DriverIT.awaitPhase(db, NAME, Phase.VERIFIED, Duration.ofMinutes(4));
                app.close();
                await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(300))
                        .until(() -> DriverIT.count(db, DriverIT.MISMATCHES), n -> n == 0);
                assertThat(app.writes()).as("the application wrote throughout").isPositive();
            } finally {
                for (Worker w : workers) {
                    w.close();
                }
            }
        }
    }

    /** The system property that turns the long cases on (not in the default build: the CI budget). */
    static final String LONG_FAULTS = "shapeshift.test.longFaults";
    private static final String KAFKA_NAME = "net-fault-kafka";
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(10);
    /** The test's retained-WAL budget: far above what the slot holds while the bridge keeps up. */
    private static final long WAL_BUDGET = 8L << 20;

    /**
     * Case 2: the bridge ↔ Kafka link goes half-open mid-backfill (the bridge alone: it reaches the
     * broker through a listener advertised at the proxy; workers and coordinator keep a direct
     * one) for 35 s, longer than the producer's request timeout (30 s), while the application and
     * a filler keep writing, so the slot retains more WAL than the test's budget (8 MiB). Checked:
     * the bridge reports Kafka unreachable in the migration's audit (status) within its
     * {@code kafkaTimeout} (10 s here) plus a watch round, raises the slot alarm, both clear after
     * the heal, nothing is lost (verified, target = transform(source)). Negative control of the
     * alarm: none is raised before the partition (asserted). Behind {@link #LONG_FAULTS}.
     */
    @Test
    @EnabledIfSystemProperty(named = LONG_FAULTS, matches = "true", disabledReason = "a long case (about 2 minutes on the "
            + "shared build machine: a broker of its own, 35 s of partition, a migration to verified); run it with -D"
            + LONG_FAULTS + "=true")
    void aHalfOpenPartitionBetweenTheBridgeAndKafkaWhileTheSlotGrowsThenHealed(PostgresServer pg) throws Exception {
        String dbName = pg.createDatabase("net_kafka");
        Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        Catalog catalog = cappedMigration(db, KAFKA_NAME);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (FaultProxy kafkaLink = new FaultProxy("127.0.0.1", 1);
             EmbeddedKafka kafka = EmbeddedKafka.startWithProxiedListener(kafkaLink.host() + ":" + kafkaLink.port())) {
            kafkaLink.retarget("127.0.0.1", kafka.proxiedListenerPort());
            String bridgeBootstrap = kafkaLink.host() + ":" + kafkaLink.port();
            try (DriverIT.AppWrites app = new DriverIT.AppWrites(DriverIT.appRole(db, pg, dbName)).start();
                 Coordinator coordinator = DriverIT.coordinator(db, kafka, registry);
                 CdcBridge bridge = new CdcBridge(DriverIT.bridge(DriverIT.bridgeRole(db, pg, dbName), () -> bridgeBootstrap)
                         .withKafkaTimeout(KAFKA_TIMEOUT).withRetainedWalAlarmBytes(WAL_BUDGET), registry)) {
                bridge.start();
                List<Worker> workers = DriverIT.workers(db, kafka, KAFKA_NAME, registry);
                try {
                    awaitChunksDone(db, KAFKA_NAME);
                    assertThat(bridge.state()).isEqualTo(BridgeState.STREAMING);
                    assertThat(bridge.metrics().alarm()).as("no slot alarm before the partition").isZero();
                    assertThat(audits(db, KAFKA_NAME, "kafka-unreachable")).isZero();

                    kafkaLink.blackhole();
                    long t0 = System.nanoTime();
                    // The backfill needs no Kafka past its tasks: let it finish meanwhile (a cheaper test).
                    catalog.putSetting(KAFKA_NAME, Knob.MAX_ROWS_PER_SECOND.key(), "0", "test", "uncap during the partition");
                    fillWal(db, 12);
                    await().atMost(KAFKA_TIMEOUT.plusSeconds(30)).pollInterval(Duration.ofMillis(200))
                            .until(() -> audits(db, KAFKA_NAME, "kafka-unreachable") > 0);
                    long noticedMs = (System.nanoTime() - t0) / 1_000_000;
                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                            .until(() -> audits(db, KAFKA_NAME, "slot-alarm") > 0);
                    long alarmMs = (System.nanoTime() - t0) / 1_000_000;
                    Thread.sleep(Math.max(0, PARTITION.toMillis() - (System.nanoTime() - t0) / 1_000_000));
                    kafkaLink.heal();
                    long healed = System.nanoTime();
                    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                            .until(() -> audits(db, KAFKA_NAME, "kafka-reachable") > 0);
                    long ackMs = (System.nanoTime() - healed) / 1_000_000;
                    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                            .until(() -> audits(db, KAFKA_NAME, "slot-alarm-cleared") > 0);
                    long clearedMs = (System.nanoTime() - healed) / 1_000_000;
                    System.out.printf("NETWORK FAULT bridge<->kafka half-open for %d s: bridge reported Kafka unreachable "
                            + "after %d ms (kafkaTimeout %d s), slot alarm (budget %d bytes) after %d ms; after the heal "
                            + "Kafka acknowledged again in %d ms, slot alarm cleared in %d ms; bridge state %s%n",
                            PARTITION.toSeconds(), noticedMs, KAFKA_TIMEOUT.toSeconds(), WAL_BUDGET, alarmMs, ackMs,
                            clearedMs, bridge.state());
                    DriverIT.awaitPhase(db, KAFKA_NAME, Phase.VERIFIED, Duration.ofMinutes(4));
                    app.close();
                    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(300))
                            .until(() -> DriverIT.count(db, DriverIT.MISMATCHES), n -> n == 0);
                    assertThat(app.writes()).as("the application wrote throughout").isPositive();
                } finally {
                    kafkaLink.heal();
                    for (Worker w : workers) {
                        w.close();
                    }
                }
            }
        }
    }

    private static final String COORD_NAME = "net-fault-coord";

    /**
     * Case 3: the driving coordinator's link to PostgreSQL goes half-open while the backfill ends
     * and the move to backfilled is due, 35 s, longer than the leader-lock session's socket timeout
     * ({@link Leadership#SOCKET_TIMEOUT}, the product default, not shortened here); a standby
     * coordinator keeps its direct link. Checked: the cut-off coordinator stops driving within its
     * socket timeout (gauge and {@code driving()}), the standby never drives while the server still
     * holds the lock for the half-open session (no two drivers at any sample), after the heal one
     * of them drives the migration to verified with target = transform(source), and the lost
     * leadership is in the audit log once the catalog answers. Negative control (run by hand,
     * 2026-12-06): with the lock session opened without a socket timeout the cut-off coordinator
     * did not stop driving within 50 s (its {@code SELECT 1} waited on the silent socket; the
     * test then hung closing it until the JVM was killed — hence the heal in {@code finally}).
     */
    @Test
    void aHalfOpenPartitionBetweenTheDrivingCoordinatorAndPostgresDuringAPhaseMove(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        String dbName = pg.createDatabase("net_coord");
        Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        Catalog catalog = cappedMigration(db, COORD_NAME);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (FaultProxy proxy = new FaultProxy(pg.host(), pg.port());
             DriverIT.AppWrites app = new DriverIT.AppWrites(DriverIT.appRole(db, pg, dbName)).start();
             Coordinator leader = DriverIT.coordinator(throughProxy(proxy, pg, dbName, ""), kafka,
                     new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            await().atMost(Duration.ofMinutes(1)).until(leader::driving);
            try (Coordinator standby = DriverIT.coordinator(db, kafka, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                 CdcBridge bridge = new CdcBridge(DriverIT.bridge(DriverIT.bridgeRole(db, pg, dbName), kafka), registry)) {
                bridge.start();
                List<Worker> workers = DriverIT.workers(db, kafka, COORD_NAME, registry);
                AtomicBoolean twoDrivers = new AtomicBoolean();
                AtomicBoolean standbyDroveDuringPartition = new AtomicBoolean();
                AtomicBoolean partitioned = new AtomicBoolean();
                Thread sampler = new Thread(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        boolean a = leader.driving();
                        boolean b = standby.driving();
                        if (a && b) {
                            twoDrivers.set(true);
                        }
                        if (b && partitioned.get()) {
                            standbyDroveDuringPartition.set(true);
                        }
                        try {
                            Thread.sleep(100);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "driver-sampler");
                sampler.setDaemon(true);
                sampler.start();
                try {
                    awaitChunksDone(db, COORD_NAME);
                    assertThat(standby.driving()).isFalse();
                    proxy.blackhole();
                    partitioned.set(true);
                    long t0 = System.nanoTime();
                    // The backfill ends during the partition: the move to backfilled is due, nobody can make it.
                    catalog.putSetting(COORD_NAME, Knob.MAX_ROWS_PER_SECOND.key(), "0", "test", "finish the backfill now");
                    await().atMost(Leadership.SOCKET_TIMEOUT.plusSeconds(30)).pollInterval(Duration.ofMillis(200))
                            .until(() -> !leader.driving());
                    long noticedMs = (System.nanoTime() - t0) / 1_000_000;
                    Thread.sleep(Math.max(0, PARTITION.toMillis() - (System.nanoTime() - t0) / 1_000_000));
                    Phase atHeal = catalog.get(COORD_NAME).phase();
                    partitioned.set(false);
                    proxy.heal();
                    long healed = System.nanoTime();
                    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200))
                            .until(() -> leader.driving() || standby.driving());
                    long drivingMs = (System.nanoTime() - healed) / 1_000_000;
                    DriverIT.awaitPhase(db, COORD_NAME, Phase.VERIFIED, Duration.ofMinutes(4));
                    long verifiedMs = (System.nanoTime() - healed) / 1_000_000;
                    System.out.printf("NETWORK FAULT coordinator<->postgres half-open for %d s: the driving coordinator "
                            + "stopped driving after %d ms (lock session socketTimeout %d s); phase at the heal %s; a "
                            + "driver again %d ms after the heal (%s), verified %d ms after it%n", PARTITION.toSeconds(),
                            noticedMs, Leadership.SOCKET_TIMEOUT.toSeconds(), atHeal.label(), drivingMs,
                            leader.driving() ? "the same instance" : "the standby", verifiedMs);
                    assertThat(standbyDroveDuringPartition).as("the standby waited: the server still held the lock "
                            + "of the half-open session").isFalse();
                    assertThat(twoDrivers).as("never two drivers").isFalse();
                    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(300))
                            .until(() -> audits(db, COORD_NAME, DriveLoop.LOSS_ACTION) > 0);
                    app.close();
                    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(300))
                            .until(() -> DriverIT.count(db, DriverIT.MISMATCHES), n -> n == 0);
                    assertThat(app.writes()).as("the application wrote throughout").isPositive();
                } finally {
                    proxy.heal(); // after a failure too: a coordinator stuck on a silent session cannot close
                    sampler.interrupt();
                    for (Worker w : workers) {
                        w.close();
                    }
                }
            }
        }
    }

    private static void awaitChunksDone(Database db, String name) {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(300)).until(() -> DriverIT.count(db,
                "SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + name + "' AND status = 'done'") >= 1);
    }

    private static long audits(Database db, String migration, String action) throws Exception {
        return DriverIT.count(db, "SELECT count(*) FROM shapeshift.audit WHERE migration = '" + migration
                + "' AND action = '" + action + "'");
    }

    /** About {@code mib} MiB of WAL from a table outside the publication: a busier application, as the slot sees it. */
    private static void fillWal(Database db, int mib) throws Exception {
        try (Connection c = db.connect("test-filler"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS public.wal_filler (id bigserial PRIMARY KEY, x text)");
            // ~1 KiB rows of hex text: below the TOAST threshold, so stored (and logged) uncompressed.
            s.execute("INSERT INTO public.wal_filler (x) SELECT (SELECT string_agg(md5(random()::text || g || i), '') "
                    + "FROM generate_series(1, 32) i) FROM generate_series(1, " + (mib * 1024) + ") g");
        }
    }

    /** The DriverIT table seeded and its migration registered, capped at 150 rows/s so a partition lands mid-backfill. */
    private static Catalog cappedMigration(Database db, String name) throws Exception {
        DriverIT.seed(db);
        DriverIT.register(db, name, "");
        Catalog catalog = new Catalog(db, "test");
        catalog.putSetting(name, Knob.MAX_ROWS_PER_SECOND.key(), "150", "test", "so the partition lands mid-backfill");
        return catalog;
    }

    /** The test database, reached through the fault proxy ({@code params}: a JDBC query string, or empty). */
    private static Database throughProxy(FaultProxy proxy, PostgresServer pg, String dbName, String params) {
        return new Database("jdbc:postgresql://" + proxy.host() + ":" + proxy.port() + "/" + dbName + params, pg.user(),
                pg.password());
    }
}
