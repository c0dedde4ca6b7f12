package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

/** What every role's /metrics carries besides its own meters: JVM, process and build info. */
class RoleMetersTest {
    @Test
    void jvmProcessAndBuildInfoAreExported() {
        PrometheusMeterRegistry registry = RoleMeters.registry("worker");
        String text = registry.scrape();
        assertThat(text).containsPattern("shapeshift_build_info\\{java=\"[^\"]+\",role=\"worker\",version=\"[^\"]+\"} 1(\\.0)?")
                .contains("jvm_memory_used_bytes{").contains("jvm_threads_live_threads").contains("jvm_classes_loaded_classes")
                .contains("process_cpu_usage").contains("process_uptime_seconds").contains("system_cpu_count");
        registry.close();
    }
}
