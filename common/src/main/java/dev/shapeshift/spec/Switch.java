package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import java.time.Duration;
import java.util.Objects;

/**
 * The read switch.
 *
 * @param flag          the flag's name (default {@code <migration name>.read-new})
 * @param cleanFor      how long the {@code verified} evidence must hold before reads switch (default 5m)
 * @param maxLag        the highest sync lag the gates accept (default 5s)
 * @param approval      who switches reads: an operator ({@code manual}, default) or the driver once the gate is open
 * @param revertOnDrift whether drift found after the switch flips reads back to {@code verified} (default true)
 */
public record Switch(String flag, Duration cleanFor, Duration maxLag, Approval approval, Boolean revertOnDrift) {
    @JsonCreator
    public Switch {
        cleanFor = Objects.requireNonNullElse(cleanFor, Duration.ofMinutes(5));
        maxLag = Objects.requireNonNullElse(maxLag, Duration.ofSeconds(5));
        approval = Objects.requireNonNullElse(approval, Approval.MANUAL);
        revertOnDrift = Objects.requireNonNullElse(revertOnDrift, true);
    }

    /** The switch with manual approval and revert-on-drift (the defaults). */
    public Switch(String flag, Duration cleanFor, Duration maxLag) {
        this(flag, cleanFor, maxLag, null, null);
    }
}
