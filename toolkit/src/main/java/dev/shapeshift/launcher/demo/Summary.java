package dev.shapeshift.launcher.demo;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The table the demo ends with. Every figure in it was measured in this run. */
final class Summary {
    private final List<String[]> rows = new ArrayList<>();

    Summary add(String what, String value) {
        rows.add(new String[] {what, value});
        return this;
    }

    Summary phases(Map<String, Duration> durations) {
        durations.forEach((phase, d) -> add("time in " + phase, String.format("%.1f s", d.toMillis() / 1000.0)));
        return this;
    }

    void print(PrintStream out) {
        int w = rows.stream().mapToInt(r -> r[0].length()).max().orElse(10);
        int v = rows.stream().mapToInt(r -> r[1].length()).max().orElse(10);
        String line = "+" + "-".repeat(w + 2) + "+" + "-".repeat(v + 2) + "+";
        out.println();
        out.println(line);
        for (String[] r : rows) {
            out.printf("| %-" + w + "s | %-" + v + "s |%n", r[0], r[1]);
        }
        out.println(line);
        out.flush();
    }
}
