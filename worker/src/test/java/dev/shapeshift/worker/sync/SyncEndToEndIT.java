package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncFixture.Check;
import dev.shapeshift.worker.sync.SyncFixture.KeyKind;
import dev.shapeshift.worker.sync.SyncFixture.Migration;
import dev.shapeshift.worker.sync.SyncFixture.Shape;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Real PostgreSQL, real Debezium bridge, real Kafka, real worker: every kind of write reaches the
 * new shape, for bigint, composite (text, int) and uuid keys, in table mode and in place.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SyncEndToEndIT {

    @Test
    void everyKindOfWriteReachesTheNewShape(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sync_e2e")) {
            List<Migration> migrations = List.of(
                    f.migration("e2e_big", KeyKind.BIGINT, Mode.TABLE, Shape.STANDARD),
                    f.migration("e2e_pair", KeyKind.COMPOSITE, Mode.TABLE, Shape.STANDARD),
                    f.migration("e2e_uuid", KeyKind.UUID, Mode.TABLE, Shape.STANDARD),
                    f.migration("e2e_inplace", KeyKind.BIGINT, Mode.IN_PLACE, Shape.STANDARD));
            CdcBridge bridge = f.bridge();
            migrations.forEach(f::awaitCaptured);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Worker worker = f.worker("w1", registry); // all active migrations, read from the catalog
            await().atMost(Duration.ofSeconds(30)).until(() -> worker.migrations().size() == migrations.size());

            Map<String, Long> changes = new LinkedHashMap<>();
            for (Migration m : migrations) {
                changes.put(m.name(), workload(f, m));
            }
            for (Migration m : migrations) {
                Check c = f.awaitConverged(m, Duration.ofSeconds(90));
                System.out.printf("E2E migration=%s mode=%s key=%s source_rows=%d check=%s%n", m.name(),
                        m.mode().yaml(), m.kind(), c.sourceRows(), c);
                assertThat(c.sourceRows()).isGreaterThan(150);
            }
            // the big values really were stored out of line (so unchanged-TOAST updates happened)
            assertThat(f.count("SELECT count(*) FROM src_e2e_big WHERE pg_column_size(big) > 2000")).isPositive();

            // Echo suppression (in place): the worker's own updates of the source table are not
            // published back. Wait past a few heartbeats to see no echo loop.
            Thread.sleep(3000);
            SyncMetrics inPlace = worker.syncMetrics("e2e_inplace").orElseThrow();
            long written = changes.get("e2e_inplace");
            System.out.printf("ECHO in-place: %d source row changes by the application -> %.0f change events consumed "
                            + "(target rows written by the worker: %.0f; bridge suppressed %.0f echo events)%n",
                    written, inPlace.events(), inPlace.rowsWritten(), bridge.metrics().suppressed());
            assertThat(inPlace.events()).as("events for N writes ≈ N, not 2N").isBetween((double) written, written * 1.1);
            assertThat(inPlace.rowsWritten()).isPositive();
            assertThat(bridge.metrics().suppressed()).isPositive();
            for (Migration m : migrations) {
                assertThat(f.check(m).clean()).as("still converged " + m.name()).isTrue();
            }
            var latency = worker.syncMetrics("e2e_big").orElseThrow().applyLatency().takeSnapshot();
            System.out.printf("E2E apply latency e2e_big: count=%d max=%.1fms mean=%.1fms%n", latency.count(),
                    latency.max(java.util.concurrent.TimeUnit.MILLISECONDS), latency.mean(java.util.concurrent.TimeUnit.MILLISECONDS));
        }
    }

    /**
     * Inserts, TOAST-unchanged updates, NULL-producing updates, deletes, key updates, a multi-row
     * transaction, a re-insert of a deleted key. Returns the number of change events the bridge
     * must publish (a key update is two: delete of the old key, insert of the new one).
     */
    private static long workload(SyncFixture f, Migration m) {
        String t = m.source();
        String cols = String.join(", ", m.kind().columns) + ", seq, a, b, big";
        String rows = " SELECT " + m.kind().fromG + ", g, g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'b' || g END, "
                + "CASE WHEN g % 25 = 0 THEN repeat('x', 5000) || g END FROM generate_series";
        long n = 0;
        n += f.tx("INSERT INTO " + t + " (" + cols + ")" + rows + "(1, 200) g");
        n += f.tx("UPDATE " + t + " SET a = a + 1 WHERE seq % 3 = 0");
        n += f.tx("UPDATE " + t + " SET a = a + 7 WHERE big IS NOT NULL"); // big unchanged: TOAST placeholder
        n += f.tx("UPDATE " + t + " SET b = NULL WHERE seq % 7 = 0");
        n += f.tx("UPDATE " + t + " SET a = 5 WHERE seq % 11 = 0"); // label becomes NULL
        n += f.tx("DELETE FROM " + t + " WHERE seq % 13 = 0");
        long keyUpdates = f.tx("UPDATE " + t + " SET " + m.kind().keyUpdate + " WHERE seq BETWEEN 100 AND 109");
        n += 2 * keyUpdates;
        n += f.tx("INSERT INTO " + t + " (" + cols + ")" + rows + "(201, 220) g",
                "UPDATE " + t + " SET a = a * 2 WHERE seq BETWEEN 1 AND 20",
                "DELETE FROM " + t + " WHERE seq BETWEEN 21 AND 24",
                "UPDATE " + t + " SET b = 'multi' WHERE seq = 205");
        n += f.tx("INSERT INTO " + t + " (" + cols + ")" + rows + "(13, 13) g"); // re-insert a deleted key
        n += f.tx("UPDATE " + t + " SET big = repeat('y', 6000) WHERE seq = 50");
        return n;
    }
}
