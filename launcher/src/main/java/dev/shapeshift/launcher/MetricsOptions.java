package dev.shapeshift.launcher;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import picocli.CommandLine.Option;

/** {@code --metrics-port} and {@code --metrics-bind} of the worker and bridge roles ({@link MetricsEndpoint}). */
final class MetricsOptions {
    @Option(names = "--metrics-port", paramLabel = "PORT", description = "Serve /metrics and /livez on this port (default: off).")
    Integer port;

    @Option(names = "--metrics-bind", paramLabel = "HOST", description = "Interface for --metrics-port (default 0.0.0.0).")
    String bind = "0.0.0.0";

    /** The endpoint serving {@code registry}, or null without {@code --metrics-port} (try-with-resources takes null). */
    MetricsEndpoint start(PrometheusMeterRegistry registry) {
        return port == null ? null : MetricsEndpoint.start(bind, port, registry);
    }
}
