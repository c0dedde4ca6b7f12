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
}
