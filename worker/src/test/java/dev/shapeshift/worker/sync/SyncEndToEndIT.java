package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.coordinator.plan.ChunkPlanner;
import dev.shapeshift.coordinator.plan.ChunkPublisher;
import dev.shapeshift.embedded.SeededWrites;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.spec.Backfill;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.worker.backfill.BackfillConfig;
import dev.shapeshift.worker.backfill.ChunkConsumer;
import dev.shapeshift.worker.throttle.SyncBacklog;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncFixture.Check;
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
                        m.mode().label(), m.kind(), c.sourceRows(), c);
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
            if (bridge.metrics().originNone() == 0) {
                // no origin filter: the bridge decodes the worker's refreshes and drops them by their mark
                assertThat(bridge.metrics().suppressed()).as("echo events dropped by the mark").isPositive();
            } // with it, the refreshes run under a replication origin and are not decoded at all (test below)
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
        String cols = String.join(", ", m.kind().names) + ", seq, a, b, big";
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
    /**
     * Issue 18 goal 1: an in-place backfill's own rows under a replication origin never reach the
     * bridge's decoding (origin = 'none'), while every concurrent application write is published and
     * applied; once another replication origin exists (a subscription's would), the bridge decodes
     * everything again, so a write under that origin still arrives, and the next backfill's rows are
     * dropped by their echo mark instead (the fallback). The sync's own refreshes run under an origin
     * too: with the filter on, the bridge decodes none of them.
     */
    @Test
    void backfillRowsUnderAnOriginAreNeverDecodedAndNoApplicationWriteIsLost(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        int rows = 20_000;
        String foreign = "it_foreign_" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        try (SyncFixture f = new SyncFixture(pg, kafka, "sync_origin")) {
            Migration a = f.migration("origin_a", KeyKind.BIGINT, Mode.IN_PLACE, Shape.STANDARD);
            Migration b = f.migration("origin_b", KeyKind.BIGINT, Mode.IN_PLACE, Shape.STANDARD);
            for (Migration m : List.of(a, b)) { // rows from before the capture: the backfill's work
                f.sql("INSERT INTO " + m.source() + " (id, seq, a, b) SELECT g, g, g, 'b' || g FROM generate_series(1, "
                        + rows + ") g");
            }
            CdcBridge bridge = f.bridge();
            f.awaitCaptured(a);
            f.awaitCaptured(b);
            await().atMost(Duration.ofSeconds(60)).until(() -> bridge.metrics().originNone() == 1);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Worker worker = f.worker("w1", registry);
            await().atMost(Duration.ofSeconds(30)).until(() -> worker.migrations().size() == 2);

            double suppressed0 = bridge.metrics().suppressed();
            long appA = backfillUnderLoad(f, a, rows);
            f.awaitConverged(a, Duration.ofSeconds(90));
            await().atMost(Duration.ofSeconds(60)).until(() -> worker.syncMetrics(a.name()).orElseThrow().events() >= appA);
            Thread.sleep(3000); // a few heartbeats: anything still in flight would show
            double eventsA = worker.syncMetrics(a.name()).orElseThrow().events();
            double suppressedA = bridge.metrics().suppressed() - suppressed0;
            System.out.printf("ORIGIN on: %d rows backfilled, %d application row changes -> %.0f events, %.0f echo events "
                    + "decoded and suppressed%n", rows, appA, eventsA, suppressedA);
            assertThat(eventsA).as("every application change published once, no backfill row").isBetween((double) appA,
                    appA * 1.1);
            // The backfill's rows were never decoded, and neither were the sync's own refreshes: its session
            // runs under an origin of the pool's upper half (the worker wrote target rows, so there were some).
            assertThat(suppressedA).as("echo events the bridge decoded").isLessThanOrEqualTo(appA);
            assertThat(worker.syncMetrics(a.name()).orElseThrow().rowsWritten()).as("the sync refreshed rows").isPositive();
            assertThat(suppressedA).as("echo events the bridge decoded: the sync's refreshes run under an origin").isZero();

            // Another replication origin (as a subscription has): the bridge must decode everything again.
            f.sql("SELECT pg_replication_origin_create('" + foreign + "')");
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> bridge.metrics().originNone() == 0);
                long underForeign;
                try (var c = f.db.connect("app"); var s = c.createStatement()) {
                    s.execute("SELECT pg_replication_origin_session_setup('" + foreign + "')");
                    underForeign = s.executeUpdate("UPDATE " + a.source() + " SET a = a + 3 WHERE seq % 50 = 0");
                    s.execute("SELECT pg_replication_origin_session_reset()");
                }
                SyncFixture.Check c = f.awaitConverged(a, Duration.ofSeconds(90));
                System.out.printf("ORIGIN fallback: %d rows written under origin %s reached the new shape (%s)%n",
                        underForeign, foreign, c);

                double suppressed1 = bridge.metrics().suppressed();
                long appB = backfillUnderLoad(f, b, rows);
                f.awaitConverged(b, Duration.ofSeconds(90));
                await().atMost(Duration.ofSeconds(60)).until(() -> worker.syncMetrics(b.name()).orElseThrow().events() >= appB);
                Thread.sleep(3000);
                double eventsB = worker.syncMetrics(b.name()).orElseThrow().events();
                double suppressedB = bridge.metrics().suppressed() - suppressed1;
                System.out.printf("ORIGIN fallback: %d rows backfilled, %d application row changes -> %.0f events, %.0f "
                        + "echo events decoded and suppressed%n", rows, appB, eventsB, suppressedB);
                assertThat(eventsB).isBetween((double) appB, appB * 1.1);
                assertThat(suppressedB).as("the backfill's rows decoded and dropped by their mark").isGreaterThanOrEqualTo(rows);
            } finally {
                f.sql("SELECT pg_replication_origin_drop('" + foreign + "')");
            }
            assertThat(f.check(a).clean()).isTrue();
        }
    }

    /**
     * Plans and backfills {@code m} with one chunk consumer while an application thread updates,
     * inserts and deletes rows of its table; returns the row changes the application made.
     */
    private static long backfillUnderLoad(SyncFixture f, Migration m, int rows) throws Exception {
        MigrationSpec spec = SpecJson.read(f.catalog.get(m.name()).specJson());
        spec = new MigrationSpec(spec.name(), spec.source(), spec.mode(), spec.target(), null,
                new Backfill(2_000, 500, Duration.ofMillis(300), 0L, Duration.ofMillis(200), 2.0), null, null, null, null);
        ResolvedSpec resolved;
        try (var c = f.db.connect("test")) {
            resolved = SpecValidator.resolveExpanded(m.name(), spec, c);
        }
        Topics.ensure(f.bootstrap(), Map.of(Topics.chunks(m.name()), SyncFixture.PARTITIONS), (short) 1);
        ChunkConsumer consumer = new ChunkConsumer(f.db, f.bootstrap(), resolved, BackfillConfig.defaults("bf-" + m.name()),
                SyncBacklog.NONE);
        Thread worker = new Thread(consumer, "bf-" + m.name());
        worker.start();
        java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();
        int[] next = {rows + 1};
        SeededWrites app = SeededWrites.of("app-" + m.name(), 42, () -> f.db.connect("app"), (random, c) -> {
            try (var st = c.createStatement()) { // autocommit: one transaction each
                int k = 1 + random.nextInt(rows);
                changes.addAndGet(st.executeUpdate(switch (random.nextInt(10)) {
                    case 0 -> "INSERT INTO " + m.source() + " (id, seq, a, b) VALUES (" + next[0] + ", " + next[0]++ + ", 7, 'new')";
                    case 1 -> "DELETE FROM " + m.source() + " WHERE id = " + k;
                    default -> "UPDATE " + m.source() + " SET a = a + 1, b = 'app' || a WHERE id = " + k;
                }));
            }
        }).userThread().start();
        try {
            var store = new dev.shapeshift.catalog.ChunkStore(f.catalog);
            new ChunkPublisher(f.bootstrap(), SyncFixture.PARTITIONS).publish(m.name(), new ChunkPlanner(store).plan(resolved));
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> {
                var t = store.totals(m.name());
                return t.chunks() > 0 && t.done() == t.chunks();
            });
            Thread.sleep(500); // a little application load after the last chunk too
        } finally {
            app.close();
            consumer.close();
            worker.join(30_000);
        }
        assertThat(changes.get()).as("the application wrote during the backfill").isGreaterThan(50);
        return changes.get();
    }
}
