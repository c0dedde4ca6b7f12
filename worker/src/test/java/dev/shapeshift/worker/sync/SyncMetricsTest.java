package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** Two workers in one process (shapeshift run): each keeps its gauges; counters add up. */
class SyncMetricsTest {
    @Test
    void twoWorkersInOneRegistryKeepTheirOwnGauges() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SyncMetrics w1 = new SyncMetrics(registry, "m", "w1");
        SyncMetrics w2 = new SyncMetrics(registry, "m", "w2");
        w1.state(SyncState.RUNNING);
        w2.state(SyncState.STOPPED_POISON);
        assertThat(registry.find("shapeshift.sync.state").tag("worker", "w1").gauge().value())
                .isEqualTo(SyncState.RUNNING.ordinal());
        assertThat(registry.find("shapeshift.sync.state").tag("worker", "w2").gauge().value())
                .isEqualTo(SyncState.STOPPED_POISON.ordinal());
        assertThat(registry.find("shapeshift.sync.lag.seconds").gauges()).hasSize(2);
        w1.poison();
        w2.poison();
        assertThat(registry.find("shapeshift.sync.poison").counters()).hasSize(1);
        assertThat(registry.get("shapeshift.sync.poison").counter().count()).isEqualTo(2);
    }

    @Test
    void latencyPercentilesComeFromTheHistogramBuckets() {
        io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        new SyncMetrics(registry, "m", "w1");
        io.micrometer.core.instrument.Timer t = registry.get("shapeshift.sync.apply.latency").timer();
        assertThat(SyncMetrics.applyLatencyMillis(registry, "m", 0.5)).isNull();
        for (int ms = 1; ms <= 1000; ms++) {
            t.record(java.time.Duration.ofMillis(ms));
        }
        // The buckets exist (a histogram, not client-side quantiles) and bound the estimate.
        assertThat(t.takeSnapshot().histogramCounts()).hasSizeGreaterThan(10);
        assertThat(t.takeSnapshot().percentileValues()).isEmpty();
        assertThat(SyncMetrics.applyLatencyMillis(registry, "m", 0.5)).isBetween(400.0, 600.0);
        assertThat(SyncMetrics.applyLatencyMillis(registry, "m", 0.99)).isBetween(900.0, 1100.0);
    }
}
