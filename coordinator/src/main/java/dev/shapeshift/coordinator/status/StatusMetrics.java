package dev.shapeshift.coordinator.status;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;

/**
 * The coordinator's per-migration gauges, fed from the latest {@link MigrationStatus} of each
 * migration (refreshed by the coordinator's status loop). Tagged by migration (and drift kind, or
 * phase); never by key. Units only where Prometheus has a base unit (seconds, bytes): counts of
 * things carry the thing in the name ({@code …_rows_copied}), never twice. Unknown is NaN.
 * Names and meanings: docs/metrics.md.
 */
public final class StatusMetrics {
    private final MeterRegistry registry;
    private final Map<String, AtomicReference<MigrationStatus>> latest = new ConcurrentHashMap<>();
    /** Info-style: one series per migration, labelled with its current phase, value 1. */
    private final MultiGauge phase;

    public StatusMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.phase = MultiGauge.builder("shapeshift.migration.phase")
                .description("1, labelled with the migration's current phase (planned … contracted, rolled-back)")
                .register(registry);
    }

    private final Map<String, Double> maxLagSeconds = new ConcurrentHashMap<>();

    public void update(List<MigrationStatus> statuses) {
        update(statuses, Map.of());
    }

    /** @param maxLag each migration's spec {@code switch.maxLag}, the bound the sync lag alert compares with */
    public void update(List<MigrationStatus> statuses, Map<String, java.time.Duration> maxLag) {
        maxLag.forEach((m, d) -> maxLagSeconds.put(m, d.toMillis() / 1000.0));
        for (MigrationStatus s : statuses) {
            latest.computeIfAbsent(s.name(), this::register).set(s);
        }
        phase.register(statuses.stream().map(s -> MultiGauge.Row.of(Tags.of("migration", s.name(), "phase",
                s.phase().label()), 1)).toList(), true);
    }

    private AtomicReference<MigrationStatus> register(String migration) {
        AtomicReference<MigrationStatus> ref = new AtomicReference<>();
        gauge("shapeshift.migration.sync.direction", migration, ref,
                s -> s.writes() == null ? 0 : "reverse".equals(s.writes().direction()) ? 1 : 0, null,
                "which shape the sync writes: 0 forward (new = transform(old)), 1 reverse (old = reverse(new), after "
                        + "the write switch)");
        gauge("shapeshift.migration.dual.write.mismatches", migration, ref,
                s -> s.writes() == null ? 0 : s.writes().mismatches(), null,
                "distinct keys recorded as dual-write-mismatch (the application's new shape differed from transform(old))");
        gauge("shapeshift.migration.backfill.rows.copied", migration, ref, s -> s.progress().rowsCopied(), null,
                "rows covered by finished backfill sub-batches");
        gauge("shapeshift.migration.backfill.rows.estimated", migration, ref, s -> s.progress().estimatedRows(), null,
                "rows the backfill plan expects to copy");
        gauge("shapeshift.migration.backfill.rows.per.second", migration, ref, s -> s.progress().rowsPerSecond(), null,
                "backfill rate between the latest two status reads, rows per second");
        gauge("shapeshift.migration.backfill.paused", migration, ref, s -> s.settings().paused() ? 1 : 0, null,
                "1 while an operator paused the backfill (shapeshift backfill pause), else 0");
        gauge("shapeshift.migration.backfill.chunks.done", migration, ref, s -> s.progress().chunksDone(), null,
                "backfill chunks done");
        gauge("shapeshift.migration.backfill.chunks.planned", migration, ref, s -> s.progress().chunks(), null,
                "backfill chunks planned");
        gauge("shapeshift.migration.backfill.chunks.running", migration, ref, s -> s.progress().chunksRunning(), null,
                "backfill chunks leased to a worker now");
        gauge("shapeshift.migration.backfill.chunks.throttled", migration, ref,
                s -> s.progress().throttled() == null ? 0 : s.progress().throttled().size(), null,
                "running chunks whose worker waits on its throttle (with a recorded reason)");
        gauge("shapeshift.migration.slot.lag.bytes", migration, ref,
                s -> s.sync().lagBytes() == null ? Double.NaN : s.sync().lagBytes(), "bytes",
                "WAL bytes between the slot's confirmed flush position and the current WAL position (NaN: no slot)");
        gauge("shapeshift.migration.sync.streams.stopped", migration, ref, s -> s.sync().stopped(), null,
                "sync streams (partitions) stopped at a poison record or on an error (shapeshift.sync_stream)");
        gauge("shapeshift.migration.sync.lag.seconds", migration, ref,
                s -> s.sync().lagSeconds() == null ? Double.NaN : s.sync().lagSeconds(), "seconds",
                "age of the newest source commit the slowest sync stream applied (NaN: a stream stopped or missing)");
        Gauge.builder("shapeshift.migration.sync.lag.max.seconds", maxLagSeconds,
                        m -> m.getOrDefault(migration, Double.NaN)).tag("migration", migration).baseUnit("seconds")
                .description("the spec's switch.maxLag: the highest sync lag the phase gates accept").register(registry);
        for (String kind : List.of("missing", "extra", "different")) {
            Gauge.builder("shapeshift.migration.drift.open", ref, r -> value(r, s -> s.drift().open().getOrDefault(kind, 0L)))
                    .tag("migration", migration).tag("kind", kind)
                    .description("open (unresolved) drift rows by kind").register(registry);
        }
        return ref;
    }

    private void gauge(String name, String migration, AtomicReference<MigrationStatus> ref,
                       ToDoubleFunction<MigrationStatus> f, String unit, String description) {
        Gauge.builder(name, ref, r -> value(r, f)).tag("migration", migration).baseUnit(unit)
                .description(description).register(registry);
    }

    private static double value(AtomicReference<MigrationStatus> ref, ToDoubleFunction<MigrationStatus> f) {
        MigrationStatus s = ref.get();
        return s == null ? Double.NaN : f.applyAsDouble(s);
    }
}
