package dev.shapeshift.coordinator.status;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;

/**
 * The coordinator's per-migration gauges, fed from the latest {@link MigrationStatus} of each
 * migration (refreshed by the coordinator's status loop). Tagged by migration (and drift kind);
 * never by key. Names and meanings: docs/metrics.md.
 */
public final class StatusMetrics {
    private final MeterRegistry registry;
    private final Map<String, AtomicReference<MigrationStatus>> latest = new ConcurrentHashMap<>();

    public StatusMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void update(List<MigrationStatus> statuses) {
        for (MigrationStatus s : statuses) {
            latest.computeIfAbsent(s.name(), this::register).set(s);
        }
    }

    private AtomicReference<MigrationStatus> register(String migration) {
        AtomicReference<MigrationStatus> ref = new AtomicReference<>();
        gauge("shapeshift.migration.phase", migration, ref, s -> s.phase().ordinal(), null,
                "phase as a number: 0 planned, 1 expanded, 2 syncing, 3 backfilling, 4 backfilled, 5 verified, "
                        + "6 dual-writes, 7 reads-switched, 8 writes-switched, 9 contract-ready, 10 contracted, 11 rolled-back");
        gauge("shapeshift.migration.sync.direction", migration, ref,
                s -> s.writes() == null ? 0 : "reverse".equals(s.writes().direction()) ? 1 : 0, null,
                "which shape the sync writes: 0 forward (new = transform(old)), 1 reverse (old = reverse(new), after "
                        + "the write switch)");
        gauge("shapeshift.migration.dual.write.mismatches", migration, ref,
                s -> s.writes() == null ? 0 : s.writes().mismatches(), "keys",
                "distinct keys recorded as dual-write-mismatch (the application's new shape differed from transform(old))");
        gauge("shapeshift.migration.backfill.rows.copied", migration, ref, s -> s.progress().rowsCopied(), "rows",
                "rows covered by finished backfill sub-batches");
        gauge("shapeshift.migration.backfill.rows.estimated", migration, ref, s -> s.progress().estimatedRows(), "rows",
                "rows the backfill plan expects to copy");
        gauge("shapeshift.migration.backfill.chunks.done", migration, ref, s -> s.progress().chunksDone(), "chunks",
                "backfill chunks done");
        gauge("shapeshift.migration.backfill.chunks.total", migration, ref, s -> s.progress().chunks(), "chunks",
                "backfill chunks planned");
        gauge("shapeshift.migration.slot.lag.bytes", migration, ref,
                s -> s.sync().lagBytes() == null ? Double.NaN : s.sync().lagBytes(), "bytes",
                "WAL bytes between the slot's confirmed flush position and the current WAL position (NaN: no slot)");
        gauge("shapeshift.migration.sync.streams.stopped", migration, ref, s -> s.sync().stopped(), "streams",
                "sync streams (partitions) stopped at a poison record or on an error (shapeshift.sync_stream)");
        gauge("shapeshift.migration.sync.lag.seconds", migration, ref,
                s -> s.sync().lagSeconds() == null ? Double.NaN : s.sync().lagSeconds(), "seconds",
                "age of the newest source commit the slowest sync stream applied (NaN: a stream stopped or missing)");
        for (String kind : List.of("missing", "extra", "different")) {
            Gauge.builder("shapeshift.migration.drift.open", ref, r -> value(r, s -> s.drift().open().getOrDefault(kind, 0L)))
                    .tag("migration", migration).tag("kind", kind).baseUnit("rows")
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
