package dev.shapeshift.launcher;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The registry of one role's process (coordinator, worker, cdc-bridge, run): Micrometer's JVM and
 * process meters ({@code jvm_*}, {@code process_*}, {@code system_cpu_*}) and a build-info series,
 * {@code shapeshift_build_info{version, role, java}} = 1, beside the role's own meters
 * (docs/metrics.md).
 */
final class RoleMeters {
    private RoleMeters() {
    }

    static PrometheusMeterRegistry registry(String role) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        // Lives as long as the process: its GC notification listeners go with the JVM.
        new JvmGcMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        Gauge.builder("shapeshift.build.info", () -> 1)
                .tag("version", Main.version()).tag("role", role).tag("java", System.getProperty("java.version"))
                .description("1, labelled with the running build's version, the process's role and the Java version")
                .register(registry);
        return registry;
    }
}
