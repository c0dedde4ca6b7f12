package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.DriftStore;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.SeededWrites;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkRow;
import dev.shapeshift.sinks.MemorySink;
import dev.shapeshift.worker.Worker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A sink-mode migration that was only registered, driven by the coordinator to {@code verified}
 * while an application writes: the empty expand, sync and backfill into the memory test sink,
 * the continuous reconcile against what the sink reads back, the gates. Then the sink is checked
 * against a Java model of the transform.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SinkDriverIT {
    private static final int ROWS = 3000;

    @Test
    void theDriverTakesASinkMigrationToVerifiedUnderWrites(PostgresServer pg, KafkaBroker kafka) throws Exception {
        String dbName = pg.createDatabase("sinkdrv");
        Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        DriverIT.seed(db, ROWS);
        String name = "users-to-cache";
        String store = "driver-" + dbName;
        String yaml = """
                name: %s
                source:
                  table: users
                mode: sink
                target:
                  sink:
                    name: memory
                    settings: { store: %s }
                  columns:
                    - { name: email_verified, type: boolean, transform: legacy_verified_at IS NOT NULL }
                    - { name: shout, transform: upper(name) }
                %s""".formatted(name, store, DriverIT.PACE);
        DriverIT.create(db, name, yaml);

        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        BridgeConfig bridgeConfig = DriverIT.bridge(DriverIT.bridgeRole(db, pg, dbName), kafka);
        Database app = DriverIT.appRole(db, pg, dbName);
        SeededWrites writer = DriverIT.appWrites(app, "sink-driver-app", 11,
                "legacy_verified_at = CASE WHEN legacy_verified_at IS NULL THEN now() END, name = name || 'x'").userThread();
        try (Coordinator coordinator = DriverIT.coordinator(db, kafka, registry);
             CdcBridge bridge = new CdcBridge(bridgeConfig, registry)) {
            bridge.start();
            writer.start();
            List<Worker> workers = DriverIT.workers(db, kafka, name, registry);
            try {
                DriverIT.awaitPhase(db, name, Phase.VERIFIED, Duration.ofMinutes(4));
                writer.close();
                assertThat(writer.writes()).as("the application wrote during sync and backfill").isPositive();
                MemorySink.Store sink = MemorySink.store(store);
                await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(300))
                        .untilAsserted(() -> assertThat(mismatches(db, sink.live())).as("sink vs Java model").isEmpty());
                assertThat(new DriftStore(new Catalog(db, "test")).page(name, null, 10)).as("open drift").isEmpty();
            } finally {
                workers.forEach(Worker::close);
            }
        } finally {
            writer.close();
            DriverIT.dropSlot(db, bridgeConfig.slot());
        }
    }

    /** Keys where the sink's live rows differ from the model: email_verified = true/false (boolean::text), shout = upper(name). */
    private static List<String> mismatches(Database db, Map<SinkKey, SinkRow> live) throws Exception {
        Map<SinkKey, List<String>> expected = new HashMap<>();
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id::text, name, legacy_verified_at IS NOT NULL FROM public.users")) {
            while (rs.next()) {
                expected.put(SinkKey.of(rs.getString(1)), List.of(rs.getBoolean(3) ? "true" : "false",
                        rs.getString(2).toUpperCase(java.util.Locale.ROOT)));
            }
        }
        List<String> out = new ArrayList<>();
        expected.forEach((k, v) -> {
            SinkRow got = live.get(k);
            if (got == null || !new ArrayList<>(got.values().values()).equals(v)) {
                out.add(k + (got == null ? " missing" : " " + got.values()));
            }
        });
        live.keySet().stream().filter(k -> !expected.containsKey(k)).forEach(k -> out.add(k + " extra"));
        return out.subList(0, Math.min(10, out.size()));
    }
}
