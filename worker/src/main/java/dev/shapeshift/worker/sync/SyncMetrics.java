package dev.shapeshift.worker.sync;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The sync consumer's meters, all tagged with the migration (never with keys); the gauges also with
 * the worker, so that several workers in one process ({@code shapeshift run}) each keep theirs
 * (counters and timers of one process add up, which is what they mean):
 * {@code shapeshift.sync.events} (row changes), {@code .heartbeats}, {@code .keys.refreshed}, {@code .rows.written},
 * {@code .batch.keys}, {@code .apply.latency} (source commit → applied),
 * {@code .apply.time}, {@code .lag.seconds}, {@code .backlog} (per partition), {@code .poison},
 * {@code .errors}, {@code .state}, {@code .visibility.waits} and {@code .visibility.wait} (batches that
 * waited for their source transactions to become visible, and for how long).
 */
public final class SyncMetrics {
    private final MeterRegistry registry;
    private final Tags tags;
    private final Tags gaugeTags;
    private final Counter events;
    private final Counter heartbeats;
    private final Counter keys;
    private final Counter written;
    private final Counter poison;
    private final Counter errors;
    private final DistributionSummary batchKeys;
    private final Timer applyLatency;
    private final Timer applyTime;
    private final Counter visibilityWaits;
    private final Counter reversed;
    private final Counter mismatches;
    private final Timer visibilityWaited;
    private final AtomicLong lastAppliedCommitMicros = new AtomicLong();
    private final AtomicLong state = new AtomicLong();
    private final Map<Integer, AtomicLong> backlogByPartition = new ConcurrentHashMap<>();

    public SyncMetrics(MeterRegistry registry, String migration, String worker) {
        this.registry = registry;
        this.tags = Tags.of("migration", migration);
        this.gaugeTags = tags.and("worker", worker);
        this.events = counter("shapeshift.sync.events", "row change events consumed");
        this.heartbeats = counter("shapeshift.sync.heartbeats", "heartbeat events consumed");
        this.keys = counter("shapeshift.sync.keys.refreshed", "distinct keys refreshed");
        this.written = counter("shapeshift.sync.rows.written", "target rows changed by sync");
        this.poison = counter("shapeshift.sync.poison",
                "poison change records met: undecodable, or a key PostgreSQL cannot read");
        this.errors = counter("shapeshift.sync.errors", "refreshes that failed for a non-transient reason");
        this.batchKeys = DistributionSummary.builder("shapeshift.sync.batch.keys").description("distinct keys per refresh batch")
                .tags(tags).register(registry);
        this.applyLatency = Timer.builder("shapeshift.sync.apply.latency")
                .description("time from the source commit of a row change to the commit of its refresh")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(5)).tags(tags).register(registry);
        this.applyTime = Timer.builder("shapeshift.sync.apply.time").description("time to refresh one batch")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(1)).tags(tags).register(registry);
        this.reversed = counter("shapeshift.sync.reverse.rows.written",
                "old-shape rows the reverse sync changed after the write switch");
        this.mismatches = counter("shapeshift.sync.dual.write.mismatches",
                "keys whose new shape, as the application dual-wrote it, differed from transform(old)");
        this.visibilityWaits = counter("shapeshift.sync.visibility.waits",
                "batches whose source transactions were decoded before they were visible, so sync waited");
        this.visibilityWaited = Timer.builder("shapeshift.sync.visibility.wait")
                .description("how long a batch waited for its source transactions to become visible")
                .tags(tags).register(registry);
        Gauge.builder("shapeshift.sync.lag.seconds", this, SyncMetrics::lagSeconds)
                .description("age of the newest source commit applied (heartbeats keep it fresh on idle tables)")
                .tags(gaugeTags).baseUnit("seconds").register(registry);
        Gauge.builder("shapeshift.sync.state", state, AtomicLong::get)
                .description("sync state: 0 starting, 1 running, 2 stopped at poison record, 3 stopped by error, 4 closed, 5 degraded (sink)")
                .tags(gaugeTags).register(registry);
    }

    private Counter counter(String name, String description) {
        return Counter.builder(name).description(description).tags(tags).register(registry);
    }

    void visibilityWait() {
        visibilityWaits.increment();
    }

    void visibilityWaited(Duration d) {
        visibilityWaited.record(d);
    }

    void applied(SyncBatch batch, long rowsWritten) {
        events.increment(batch.events() - batch.heartbeats());
        heartbeats.increment(batch.heartbeats());
        keys.increment(batch.keys().size());
        written.increment(rowsWritten);
        if (!batch.keys().isEmpty()) {
            batchKeys.record(batch.keys().size());
        }
        long nowMicros = System.currentTimeMillis() * 1000;
        batch.commitTimesMicros().forEach(t -> applyLatency.record(Math.max(0, nowMicros - t), TimeUnit.MICROSECONDS));
        if (batch.newestCommitMicros() > 0) {
            lastAppliedCommitMicros.accumulateAndGet(batch.newestCommitMicros(), Math::max);
        }
    }

    void applyTime(Duration d) {
        applyTime.record(d);
    }

    void poison() {
        poison.increment();
    }

    void refreshError() {
        errors.increment();
    }

    /** Sink mode: failed sink calls and rows applied, under {@code shapeshift.sink.}. */
    public dev.shapeshift.sinks.SinkApplier.Listener sinkListener() {
        Counter failures = counter("shapeshift.sink.failures",
                "sink calls that failed (each retry counts; permanent refusals included)");
        Counter rows = counter("shapeshift.sink.rows.applied",
                "rows handed to the sink and accepted (older versions the sink skipped included)");
        return new dev.shapeshift.sinks.SinkApplier.Listener() {
            @Override
            public void failedAttempt(String reason) {
                failures.increment();
            }

            @Override
            public void applied(int n) {
                rows.increment(n);
            }
        };
    }

    void state(SyncState s) {
        state.set(s.ordinal());
    }

    /** Reads the consumer's own lag view (no broker round trip). */
    void observeLag(KafkaConsumer<byte[], byte[]> consumer) {
        var assigned = consumer.assignment();
        backlogByPartition.forEach((p, v) -> {
            if (assigned.stream().noneMatch(tp -> tp.partition() == p)) {
                v.set(0);
            }
        });
        for (TopicPartition tp : consumer.assignment()) {
            var lag = consumer.currentLag(tp);
            if (lag.isPresent()) {
                backlogByPartition.computeIfAbsent(tp.partition(), p -> {
                    AtomicLong v = new AtomicLong();
                    Gauge.builder("shapeshift.sync.backlog", v, AtomicLong::get)
                            .description("change events not yet consumed, per partition")
                            .tags(gaugeTags.and("partition", Integer.toString(p))).register(registry);
                    return v;
                }).set(lag.getAsLong());
            }
        }
    }

    /** Row change events applied (duplicates included). */
    /** Rows the reverse sync wrote and dual-write mismatches recorded by one slice. */
    public void writeSwitch(long reversedRows, long mismatchedKeys) {
        reversed.increment(reversedRows);
        mismatches.increment(mismatchedKeys);
    }

    public double events() {
        return events.count();
    }

    /** Target rows changed by this consumer's refreshes. */
    public double rowsWritten() {
        return written.count();
    }

    /** Seconds since the newest source commit applied (NaN before the first). */
    public double lag() {
        return lagSeconds();
    }

    long backlog() {
        return backlogByPartition.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** Source commit → applied, one sample per row change (heartbeats excluded); publishes p50 and p99. */
    public Timer applyLatency() {
        return applyLatency;
    }

    private double lagSeconds() {
        long last = lastAppliedCommitMicros.get();
        return last == 0 ? Double.NaN : Math.max(0, System.currentTimeMillis() * 1000 - last) / 1_000_000.0;
    }

    /**
     * A percentile (0..1) of {@code shapeshift.sync.apply.latency} of one migration in this
     * process, in milliseconds, estimated from the histogram buckets as Prometheus'
     * {@code histogram_quantile} does (linear within the bucket); null when nothing was applied.
     * The meter exports buckets, not client-side quantiles, so that workers aggregate.
     */
    public static Double applyLatencyMillis(MeterRegistry registry, String migration, double q) {
        Timer t = registry.find("shapeshift.sync.apply.latency").tag("migration", migration).timer();
        if (t == null || t.count() == 0) {
            return null;
        }
        io.micrometer.core.instrument.distribution.HistogramSnapshot snap = t.takeSnapshot();
        double rank = q * snap.count();
        double lowerBound = 0;
        double lowerCount = 0;
        for (io.micrometer.core.instrument.distribution.CountAtBucket b : snap.histogramCounts()) {
            double upper = b.bucket(TimeUnit.MILLISECONDS);
            if (b.count() >= rank) {
                double inBucket = b.count() - lowerCount;
                double fraction = inBucket <= 0 ? 1 : (rank - lowerCount) / inBucket;
                return lowerBound + (upper - lowerBound) * fraction;
            }
            lowerBound = upper;
            lowerCount = b.count();
        }
        return snap.max(TimeUnit.MILLISECONDS);
    }
}
