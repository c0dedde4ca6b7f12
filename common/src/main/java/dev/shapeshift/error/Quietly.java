package dev.shapeshift.error;

import java.util.function.Consumer;

/**
 * Closing what is being given up anyway (a consumer, a role, a broken session): a failure to close
 * must not hide the reason for closing, so it is handed to the caller, who logs it at the level and
 * in the words of its own component.
 */
public final class Quietly {
    private Quietly() {
    }

    /** Closes {@code c}; nothing when it is null. A failure goes to {@code failed} instead of being thrown. */
    public static void close(AutoCloseable c, Consumer<Exception> failed) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            failed.accept(e);
        }
    }
}
