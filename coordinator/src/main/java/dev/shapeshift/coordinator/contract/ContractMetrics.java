package dev.shapeshift.coordinator.contract;

import dev.shapeshift.coordinator.contract.AwaitingContract.Awaiting;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Per-migration gauges of contracts not yet done (docs/metrics.md): seconds since the read switch
 * while a migration awaits its contract (NaN once it no longer does), and 1 while it is past its
 * {@code contract.deadline}. Fed from {@link AwaitingContract#read} by the coordinator's status loop.
 */
public final class ContractMetrics {
    private final MeterRegistry registry;
    private final Map<String, AtomicReference<Awaiting>> latest = new ConcurrentHashMap<>();

    public ContractMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void update(List<Awaiting> awaiting) {
        latest.values().forEach(r -> r.set(null));
        for (Awaiting a : awaiting) {
            latest.computeIfAbsent(a.migration(), this::register).set(a);
        }
    }

    private AtomicReference<Awaiting> register(String migration) {
        AtomicReference<Awaiting> ref = new AtomicReference<>();
        Gauge.builder("shapeshift.contract.awaiting.seconds", ref, r -> r.get() == null ? Double.NaN
                        : r.get().awaiting().toMillis() / 1000.0)
                .tag("migration", migration).baseUnit("seconds")
                .description("time since the read switch while the migration awaits its contract (NaN: not awaiting)")
                .register(registry);
        Gauge.builder("shapeshift.contract.past.deadline", ref, r -> r.get() != null && r.get().pastDeadline() ? 1 : 0)
                .tag("migration", migration)
                .description("1 while the migration is past its contract.deadline without its contract")
                .register(registry);
        return ref;
    }
}
