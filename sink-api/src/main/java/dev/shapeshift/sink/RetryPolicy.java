package dev.shapeshift.sink;

import java.time.Duration;

/**
 * Bounded retries with exponential back-off for {@link RetryableSinkException}s. After
 * {@code maxAttempts} failed attempts in a row the migration's sink sync counts as degraded (with
 * the last error as the reason) and keeps trying every {@code maxBackoff}, without committing
 * anything past the unapplied rows; it is healthy again at the first call that succeeds.
 *
 * @param maxAttempts attempts before degraded; at least 1
 * @param initialBackoff wait after the first failure; positive
 * @param maxBackoff the longest wait, also the pace of retries while degraded; at least initialBackoff
 * @param multiplier growth of the wait per failure; at least 1
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, double multiplier) {

    public static final RetryPolicy DEFAULT =
            new RetryPolicy(5, Duration.ofMillis(200), Duration.ofSeconds(10), 2.0);

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
        }
        if (initialBackoff == null || initialBackoff.isNegative() || initialBackoff.isZero()) {
            throw new IllegalArgumentException("initialBackoff must be positive: " + initialBackoff);
        }
        if (maxBackoff == null || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("maxBackoff must be at least initialBackoff: " + maxBackoff);
        }
        if (!(multiplier >= 1.0)) {
            throw new IllegalArgumentException("multiplier must be at least 1: " + multiplier);
        }
    }

    /** The wait after the {@code failures}-th failure in a row (1-based), capped at maxBackoff. */
    public Duration backoff(int failures) {
        double millis = initialBackoff.toMillis() * Math.pow(multiplier, Math.max(0, failures - 1));
        return millis >= maxBackoff.toMillis() ? maxBackoff : Duration.ofMillis((long) millis);
    }
}
