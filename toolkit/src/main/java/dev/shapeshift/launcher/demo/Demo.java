package dev.shapeshift.launcher.demo;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Entry of the demo: checks the options (fail fast, no clamping) and runs it. */
public final class Demo {
    private Demo() {
    }

    /** {@code rows} negative: the scenario's default (menu 20,000: every row is also seeded into a service over HTTP; else 500,000). */
    public static int run(String scenario, long rows, int writeRate, int workers, int partitions, boolean keepRunning,
                          PrintStream out) throws Exception {
        Scenario s;
        try {
            s = Scenario.valueOf(scenario.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ShapeshiftException(ErrorCode.USAGE, "--scenario " + scenario + " is not one of "
                    + Arrays.stream(Scenario.values()).map(v -> v.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")));
        }
        if (rows < 0) {
            rows = s == Scenario.MENU ? 20_000 : 500_000; // --rows not given
        }
        require(rows >= 1000, "--rows must be at least 1000, got " + rows);
        require(writeRate >= 0, "--write-rate must not be negative, got " + writeRate);
        require(writeRate >= 1 || !s.switchesWrites(), "--write-rate must be at least 1 for --scenario "
                + scenario + ": it walks the write switch, whose gate needs the application's writes of the new shape "
                + "(pg_stat_statements); use --scenario table to migrate without an application load");
        require(workers >= 1, "--workers must be at least 1, got " + workers);
        require(partitions >= workers, "--partitions (" + partitions + ") must be at least --workers (" + workers
                + "): partitions bound how many workers share the work");
        return new DemoRun(new DemoRun.Options(s, rows, writeRate, workers, partitions, keepRunning), out).run();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ShapeshiftException(ErrorCode.USAGE, message);
        }
    }
}
