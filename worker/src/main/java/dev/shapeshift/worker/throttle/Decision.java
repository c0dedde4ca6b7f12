package dev.shapeshift.worker.throttle;

import java.time.Duration;

/** Whether to wait before the next sub-batch, how long, and why (shown in the status line). */
public record Decision(Duration delay, String reason) {
    public static final Decision GO = new Decision(Duration.ZERO, "none");

    public boolean waits() {
        return !delay.isZero() && !delay.isNegative();
    }
}
