package dev.shapeshift.launcher.demo;

import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** Times the demo's steps and prints one phase line as each begins. */
final class PhaseClock {
    private final Map<String, Duration> durations = new LinkedHashMap<>();
    private final PrintStream out;
    private String current;
    private long startedNanos;

    PhaseClock(PrintStream out) {
        this.out = out;
    }

    void begin(String phase, String what) {
        end();
        current = phase;
        startedNanos = System.nanoTime();
        out.printf("%n==> %-15s %s%n", phase, what);
        out.flush();
    }

    void end() {
        if (current != null) {
            durations.merge(current, Duration.ofNanos(System.nanoTime() - startedNanos), Duration::plus);
            current = null;
        }
    }

    Map<String, Duration> durations() {
        end();
        return durations;
    }
}
