package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.FaultProxy;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.worker.Worker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 20, network faults: the workers ↔ PostgreSQL link goes silent (packets swallowed, no
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
        DriverIT.seed(db);
        DriverIT.register(db, NAME, "");
        Catalog catalog = new Catalog(db, "test");
        catalog.putSetting(NAME, "max-rows-per-second", "150", "test", "so the partition lands mid-backfill");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (FaultProxy proxy = new FaultProxy(pg.host(), pg.port());
             DriverIT.AppWrites app = new DriverIT.AppWrites(DriverIT.appRole(db, pg, dbName)).start();
             Coordinator coordinator = DriverIT.coordinator(db, kafka, registry);
             CdcBridge bridge = new CdcBridge(DriverIT.bridge(DriverIT.bridgeRole(db, pg, dbName), kafka), registry)) {
            bridge.start();
            Database throughProxy = new Database("jdbc:postgresql://" + proxy.host() + ":" + proxy.port() + "/" + dbName
                    + "?socketTimeout=" + SOCKET_TIMEOUT_S, pg.user(), pg.password());
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

                catalog.putSetting(NAME, "max-rows-per-second", "0", "test", "uncap after the partition");
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
}
