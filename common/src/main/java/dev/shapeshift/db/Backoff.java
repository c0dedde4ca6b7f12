package dev.shapeshift.db;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.time.Duration;

/** The pause between two attempts of a retry loop. */
public final class Backoff {
    private Backoff() {
    }

    /**
     * Sleeps {@code d}. Interrupted, it keeps the thread's interrupt flag and gives up the retry loop:
     * an {@code INTERNAL} {@link ShapeshiftException} with {@code interrupted} as its message.
     */
    public static void sleep(Duration d, String interrupted) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShapeshiftException(ErrorCode.INTERNAL, interrupted, e);
        }
    }
}
