package dev.shapeshift.spec;

import java.time.Duration;
import java.util.Objects;

/**
 * How both shapes are compared.
 *
 * @param rangeRows        keys per compared range (default 50000)
 * @param interval         time between continuous runs (default 5m)
 * @param maxRowsPerSecond pace of a run over all its connections, 0 for none (default 0)
 * @param recheckAfter     how long a differing key may lag before it counts as drift (default 10s)
 * @param parallelism      ranges compared at the same time, each on its own connection (default 2)
 */
public record Reconcile(Integer rangeRows, Duration interval, Long maxRowsPerSecond, Duration recheckAfter,
                        Integer parallelism) {
    /** The most connections one run may compare on: a reconcile must not crowd out the application. */
    public static final int MAX_PARALLELISM = 16;

    public Reconcile {
        rangeRows = Objects.requireNonNullElse(rangeRows, 50_000);
        interval = Objects.requireNonNullElse(interval, Duration.ofMinutes(5));
        maxRowsPerSecond = Objects.requireNonNullElse(maxRowsPerSecond, 0L);
        recheckAfter = Objects.requireNonNullElse(recheckAfter, Duration.ofSeconds(10));
        parallelism = Objects.requireNonNullElse(parallelism, 2);
    }

    /** The default parallelism. */
    public Reconcile(Integer rangeRows, Duration interval, Long maxRowsPerSecond, Duration recheckAfter) {
        this(rangeRows, interval, maxRowsPerSecond, recheckAfter, null);
    }
}
