package dev.shapeshift.bridge;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;

/** The bridge's meters, all under {@code shapeshift.bridge.}; no per-key tags. */
public final class BridgeMetrics {
    final Counter published;
    final Counter suppressed;
    final Counter heartbeats;
    final Counter schemaStops;
    final AtomicLong lagBytes = new AtomicLong(-1);
    final AtomicLong safeWalBytes = new AtomicLong(-1);
    final AtomicLong alarm = new AtomicLong();
    final AtomicLong leader = new AtomicLong();

    public BridgeMetrics(MeterRegistry registry) {
        published = Counter.builder("shapeshift.bridge.events.published")
                .description("change events acknowledged by Kafka (one per migration and key)").register(registry);
        suppressed = Counter.builder("shapeshift.bridge.events.suppressed")
                .description("change events dropped because their transaction carried the workers' echo mark")
                .register(registry);
        heartbeats = Counter.builder("shapeshift.bridge.heartbeats.published")
                .description("heartbeat events published to change topics").register(registry);
        schemaStops = Counter.builder("shapeshift.bridge.schema.stops")
                .description("migrations whose sync the bridge stopped because their source table changed")
                .register(registry);
        Gauge.builder("shapeshift.bridge.slot.lag.bytes", lagBytes, AtomicLong::get).baseUnit("bytes")
                .description("WAL between the server's current position and the slot's confirmed flush (-1 unknown)")
                .register(registry);
        Gauge.builder("shapeshift.bridge.slot.safe.wal.bytes", safeWalBytes, AtomicLong::get).baseUnit("bytes")
                .description("WAL the slot may still retain before it is lost (-1 unlimited or unknown)")
                .register(registry);
        Gauge.builder("shapeshift.bridge.slot.alarm", alarm, AtomicLong::get)
                .description("1 while the slot is close to losing WAL (safe_wal_size low or wal_status unreserved/lost)")
                .register(registry);
        Gauge.builder("shapeshift.bridge.leader", leader, AtomicLong::get)
                .description("1 while this bridge holds the leader lock of its slot").register(registry);
    }

    public double published() {
        return published.count();
    }

    public double suppressed() {
        return suppressed.count();
    }

    public long alarm() {
        return alarm.get();
    }
}
