package dev.shapeshift.launcher.demo;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts of the kinds {@code E} of what a demo thread did (writes, reads, failures …), added by
 * that thread and read by the summary at any time.
 */
final class Tally<E extends Enum<E>> {
    private final AtomicLongArray counts;

    Tally(Class<E> kinds) {
        this.counts = new AtomicLongArray(kinds.getEnumConstants().length);
    }

    void add(E kind) {
        add(kind, 1);
    }

    void add(E kind, long n) {
        counts.addAndGet(kind.ordinal(), n);
    }

    long get(E kind) {
        return counts.get(kind.ordinal());
    }
}
