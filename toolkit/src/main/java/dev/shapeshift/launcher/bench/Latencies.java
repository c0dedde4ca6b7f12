package dev.shapeshift.launcher.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Transaction times of one run, thread-safe, and their percentiles. */
final class Latencies {
    private final List<Double> millis = Collections.synchronizedList(new ArrayList<>());

    void add(long nanos) {
        millis.add(nanos / 1e6);
    }

    long count() {
        return millis.size();
    }

    Double percentile(double p) {
        List<Double> sorted;
        synchronized (millis) {
            if (millis.isEmpty()) {
                return null;
            }
            sorted = new ArrayList<>(millis);
        }
        Collections.sort(sorted);
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
}
