package dev.shapeshift.launcher.demo;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import dev.shapeshift.worker.sync.SyncMetrics;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Figures the demo reads from the meters, and its progress bar. */
final class DemoMetrics {
    private DemoMetrics() {
    }

    /** p50 / p99 of source commit → target applied, from the workers' timer histogram (shared registry). */
    static String latency(MeterRegistry registry, String migration) {
        Timer timer = registry.find("shapeshift.sync.apply.latency").tag("migration", migration).timer();
        if (timer == null || timer.count() == 0) {
            return "no changes applied";
        }
        double p50 = SyncMetrics.applyLatencyMillis(registry, migration, 0.5);
        double p99 = SyncMetrics.applyLatencyMillis(registry, migration, 0.99);
        return String.format("%.0f ms / %.0f ms (%,d changes)", p50, p99, timer.count());
    }

    static ProgressBar progressBar(String task, long max) {
        return new ProgressBarBuilder().setTaskName(task).setStyle(ProgressBarStyle.ASCII)
                .setInitialMax(Math.max(1, max)).setUnit(" rows", 1).showSpeed().setUpdateIntervalMillis(500)
                .continuousUpdate().build();
    }
}
