package dev.shapeshift.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Kubernetes starts pods in any order: every role (cdc-bridge, worker, coordinator) starts through
 * its real start path on a fresh database in every order, and two at once, and each one finds the
 * catalog its way (one Flyway history; no role creates catalog objects outside it).
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class StartOrderIT {
    private final PostgresServer pg;
    private final KafkaBroker kafka;

    StartOrderIT(PostgresServer pg, KafkaBroker kafka) {
        this.pg = pg;
        this.kafka = kafka;
    }

    enum Role { BRIDGE, WORKER, COORDINATOR }

    @Test
    void bridgeFirst() throws Exception {
        inOrder(Role.BRIDGE, Role.WORKER, Role.COORDINATOR);
    }

    @Test
    void workerFirst() throws Exception {
        inOrder(Role.WORKER, Role.BRIDGE, Role.COORDINATOR);
    }

    @Test
    void coordinatorFirst() throws Exception {
        inOrder(Role.COORDINATOR, Role.BRIDGE, Role.WORKER);
    }

    @Test
    void bridgeAndCoordinatorAtOnceThenWorker() throws Exception {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase("start_two")), pg.user(), pg.password());
        List<AutoCloseable> started = new ArrayList<>();
        CyclicBarrier together = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<AutoCloseable>> runs = new ArrayList<>();
            for (Role r : List.of(Role.BRIDGE, Role.COORDINATOR)) {
                runs.add(pool.submit((Callable<AutoCloseable>) () -> {
                    together.await();
                    return start(r, db);
                }));
            }
            for (Future<AutoCloseable> f : runs) {
                started.add(f.get());
            }
            started.add(start(Role.WORKER, db));
            assertOneHistory(db);
        } finally {
            pool.shutdownNow();
            closeAll(started);
        }
    }

    private void inOrder(Role... roles) throws Exception {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase("start_" + roles[0].name().toLowerCase())),
                pg.user(), pg.password());
        List<AutoCloseable> started = new ArrayList<>();
        try {
            for (Role r : roles) {
                started.add(start(r, db));
                assertOneHistory(db);
            }
        } finally {
            closeAll(started);
        }
    }

    private AutoCloseable start(Role role, Database db) throws Exception {
        switch (role) {
            case BRIDGE -> {
                String slot = "s_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
                CdcBridge bridge = new CdcBridge(BridgeConfig.of(db, kafka.bootstrapServers())
                        .withSlot(slot)
                        .withPublication("p_" + slot), new SimpleMeterRegistry());
                bridge.start();
                return bridge;
            }
            case WORKER -> {
                Worker w = new Worker(db, kafka.bootstrapServers(), Worker.Config.of("w-" + UUID.randomUUID(),
                        List.of()), new SimpleMeterRegistry());
                w.start();
                return w;
            }
            default -> {
                return Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, "admin-token-for-tests",
                        null, Duration.ofSeconds(2)), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
            }
        }
    }

    /** One Flyway history with every version applied exactly once, and the bridge's tables in it. */
    private static void assertOneHistory(Database db) throws Exception {
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE type = 'SQL' AND success), "
                     + "count(DISTINCT version) FILTER (WHERE type = 'SQL'), count(*) FILTER (WHERE NOT success), "
                     + "to_regclass('shapeshift.bridge_capture') IS NOT NULL AND to_regclass('shapeshift.heartbeat') "
                     + "IS NOT NULL AND to_regclass('shapeshift.sync_stream') IS NOT NULL "
                     + "FROM shapeshift.schema_history")) {
            rs.next();
            assertThat(rs.getLong(1)).as("versions applied").isEqualTo(rs.getLong(2)).isGreaterThanOrEqualTo(5);
            assertThat(rs.getLong(3)).as("failed migrations").isZero();
            assertThat(rs.getBoolean(4)).as("bridge and stream tables made by the catalog migration").isTrue();
        }
    }

    private static void closeAll(List<AutoCloseable> started) throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
    }
}
