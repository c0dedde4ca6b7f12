package dev.shapeshift.bridge;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bridge's meters, all under {@code shapeshift.bridge.}, labelled with the bridge's {@code slot}
 * and {@code database} (several bridges, one per source database, scraped into one Prometheus);
 * no per-key tags. Unknown is NaN, as on every other Shapeshift gauge.
 */
public final class BridgeMetrics {
    /** Stored in the byte gauges while unknown; exported as NaN. */
    static final long UNKNOWN = -1;
    final Counter published;
    final Counter suppressed;
    final Counter heartbeats;
    final Counter schemaStops;
    final AtomicLong lagBytes = new AtomicLong(UNKNOWN);
    final AtomicLong safeWalBytes = new AtomicLong(UNKNOWN);
    final AtomicLong alarm = new AtomicLong();
    final AtomicLong leader = new AtomicLong();
    final AtomicLong kafkaUnacknowledgedSeconds = new AtomicLong();
    final AtomicLong originNone = new AtomicLong();

    public BridgeMetrics(MeterRegistry registry, String slot, String database) {
        Tags tags = Tags.of("slot", slot, "database", database);
        published = Counter.builder("shapeshift.bridge.events.published").tags(tags)
                .description("change events acknowledged by Kafka (one per migration and key)").register(registry);
        suppressed = Counter.builder("shapeshift.bridge.events.suppressed").tags(tags)
                .description("change events dropped because their transaction carried the workers' echo mark")
                .register(registry);
        heartbeats = Counter.builder("shapeshift.bridge.heartbeats.published").tags(tags)
                .description("heartbeat events published to change topics").register(registry);
        schemaStops = Counter.builder("shapeshift.bridge.schema.stops").tags(tags)
                .description("migrations whose sync the bridge stopped because their source table changed")
                .register(registry);
        Gauge.builder("shapeshift.bridge.slot.lag.bytes", lagBytes, BridgeMetrics::orNaN).tags(tags).baseUnit("bytes")
                .description("WAL between the server's current position and the slot's confirmed flush (NaN unknown)")
                .register(registry);
        Gauge.builder("shapeshift.bridge.slot.safe.wal.bytes", safeWalBytes, BridgeMetrics::orNaN).tags(tags)
                .baseUnit("bytes")
                .description("WAL the slot may still retain before it is lost (NaN: unlimited or unknown)")
                .register(registry);
        Gauge.builder("shapeshift.bridge.slot.alarm", alarm, AtomicLong::get).tags(tags)
                .description("1 while the slot is close to losing WAL (safe_wal_size low or wal_status unreserved/lost) "
                        + "or holds more than retainedWalAlarmBytes")
                .register(registry);
        Gauge.builder("shapeshift.bridge.kafka.unacknowledged.seconds", kafkaUnacknowledgedSeconds, AtomicLong::get)
                .tags(tags).baseUnit("seconds")
                .description("how long the batch of change events in hand has waited for Kafka (0: none waiting); "
                        + "over kafkaTimeout the bridge reports Kafka unreachable").register(registry);
        Gauge.builder("shapeshift.bridge.origin.none", originNone, AtomicLong::get).tags(tags)
                .description("1 while the stream skips changes written under a replication origin (the backfill's "
                        + "own rows are never decoded); 0: every change is decoded, echoes dropped by their mark")
                .register(registry);
        Gauge.builder("shapeshift.bridge.leader", leader, AtomicLong::get).tags(tags)
                .description("1 while this bridge holds the leader lock of its slot").register(registry);
    }

    private static double orNaN(AtomicLong v) {
        long x = v.get();
        return x < 0 ? Double.NaN : x;
    }

    public double published() {
        return published.count();
    }

    public double suppressed() {
        return suppressed.count();
    }

    /** 1 while the stream skips changes written under a replication origin ({@code origin = 'none'}). */
    public long originNone() {
        return originNone.get();
    }

    public long alarm() {
        return alarm.get();
    }

    public long kafkaUnacknowledgedSeconds() {
        return kafkaUnacknowledgedSeconds.get();
    }
}
