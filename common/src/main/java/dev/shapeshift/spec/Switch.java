package dev.shapeshift.spec;

import java.time.Duration;
import java.util.Objects;

/**
 * The read switch.
 *
 * @param flag     the flag's name (default {@code <migration name>.read-new})
 * @param cleanFor how long the {@code verified} evidence must hold before reads switch (default 5m)
 * @param maxLag   the highest sync lag the gates accept (default 5s)
 */
public record Switch(String flag, Duration cleanFor, Duration maxLag) {
    public Switch {
        cleanFor = Objects.requireNonNullElse(cleanFor, Duration.ofMinutes(5));
        maxLag = Objects.requireNonNullElse(maxLag, Duration.ofSeconds(5));
    }
}
