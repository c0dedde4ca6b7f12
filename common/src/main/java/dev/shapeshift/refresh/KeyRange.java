package dev.shapeshift.refresh;

/**
 * A half-open run of keys in key order: every key {@code > after} and {@code <= upTo}. A null
 * bound is open. Resuming after a checkpoint is {@code new KeyRange(lastKey, upTo)}.
 */
public record KeyRange(Key after, Key upTo) {
    public static final KeyRange ALL = new KeyRange(null, null);

    public KeyRange resumeAfter(Key lastDone) {
        return new KeyRange(lastDone, upTo);
    }
}
