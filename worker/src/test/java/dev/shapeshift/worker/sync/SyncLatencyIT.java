package dev.shapeshift.worker.sync;

import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncFixture.Check;
import dev.shapeshift.worker.sync.SyncFixture.Migration;
import dev.shapeshift.worker.sync.SyncFixture.Shape;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Measurement, printed and not asserted (the machine is shared): source commit → target applied
 * latency at a steady write rate, and how fast one worker drains a backlog.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SyncLatencyIT {
    private static final int ROWS = 20_000;
    private static final int RATE = 200;
    private static final int SECONDS = 20;

    @Test
    void applyLatencyAtASteadyRateAndDrainRateOfOneWorker(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sync_latency")) {
            Migration m = f.migration("latency", KeyKind.BIGINT, Mode.TABLE, Shape.STANDARD);
            // rows before the slot are backfill's job: the target gets them through the updates below
            f.tx("INSERT INTO src_latency (id, seq, a, b) SELECT g, g, g, 'b' || g FROM generate_series(1, " + ROWS + ") g");
            CdcBridge bridge = f.bridge();
            f.awaitCaptured(m);

            // the registry the roles use: it keeps the latency histogram's buckets
            io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                    io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
            Worker steady = f.worker("steady", registry, m.name());
            await().atMost(Duration.ofSeconds(60)).until(() -> f.syncAssignments(m).values().stream()
                    .mapToInt(Integer::intValue).sum() == SyncFixture.PARTITIONS);
            long sent = steadyUpdates(f, m);
            SyncMetrics metrics = steady.syncMetrics(m.name()).orElseThrow();
            await().atMost(Duration.ofSeconds(60)).until(() -> metrics.events() >= sent);
            HistogramSnapshot s = metrics.applyLatency().takeSnapshot();
            System.out.printf("LATENCY steady %d single-row updates/s for %ds (%d sent): applied=%d p50=%.1fms p99=%.1fms "
                            + "max=%.1fms mean=%.1fms (p50/p99 from the histogram buckets)%n", RATE, SECONDS, sent, s.count(),
                    SyncMetrics.applyLatencyMillis(registry, m.name(), 0.5), SyncMetrics.applyLatencyMillis(registry, m.name(), 0.99),
                    s.max(TimeUnit.MILLISECONDS), s.mean(TimeUnit.MILLISECONDS));
            steady.close();

            // Burst with no worker running, so Kafka holds the whole backlog; then one worker drains it.
            double publishedBefore = bridge.metrics().published();
            long burstStart = System.nanoTime();
            for (int i = 0; i < ROWS; i += 1000) {
                f.tx("UPDATE src_latency SET a = a + 1 WHERE id > " + i + " AND id <= " + (i + 1000));
            }
            double burstSeconds = (System.nanoTime() - burstStart) / 1e9;
            await().atMost(Duration.ofSeconds(120)).until(() -> bridge.metrics().published() - publishedBefore >= ROWS);
            double bridgeSeconds = (System.nanoTime() - burstStart) / 1e9;
            Worker drain = f.worker("drain", new SimpleMeterRegistry(), m.name());
            SyncMetrics dm = await().atMost(Duration.ofSeconds(30)).until(() -> drain.syncMetrics(m.name()).orElse(null),
                    x -> x != null);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10)).until(() -> dm.events() > 0);
            long first = System.nanoTime();
            await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(20)).until(() -> dm.events() >= ROWS);
            double drainSeconds = (System.nanoTime() - first) / 1e9;
            Check c = f.awaitConverged(m, Duration.ofSeconds(60));
            System.out.printf("DRAIN burst of %d updates (20 tx x 1000 rows) committed in %.1fs, on Kafka after %.1fs; one "
                            + "worker applied %.0f events (%.0f rows written) in %.2fs = %.0f changes/s; converged=%s%n",
                    ROWS, burstSeconds, bridgeSeconds, dm.events(), dm.rowsWritten(), drainSeconds, dm.events() / drainSeconds,
                    c.clean());
        }
    }

    /** {@link #RATE} single-row autocommit updates per second for {@link #SECONDS}, paced by deadline. */
    private static long steadyUpdates(SyncFixture f, Migration m) throws Exception {
        long n = (long) RATE * SECONDS;
        long interval = TimeUnit.SECONDS.toNanos(1) / RATE;
        try (Connection c = f.db.connect("app");
             PreparedStatement ps = c.prepareStatement("UPDATE " + m.source() + " SET a = a + 1 WHERE id = ?")) {
            long start = System.nanoTime();
            for (long i = 0; i < n; i++) {
                long wait = start + i * interval - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                ps.setLong(1, 1 + ThreadLocalRandom.current().nextInt(ROWS));
                ps.executeUpdate();
            }
            System.out.printf("LATENCY offered %.0f updates/s%n", n / ((System.nanoTime() - start) / 1e9));
        }
        return n;
    }
}
