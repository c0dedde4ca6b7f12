package dev.shapeshift.launcher;

import picocli.CommandLine.Option;

/**
 * {@code --actor} and {@code --reason}: who makes a change and why, both recorded in the audit
 * log. {@link Required} where the change refuses to run without a reason (phase moves, contract,
 * restore, clean-up, skips, flags), so the help shows it as required; {@link Optional} elsewhere;
 * {@link ActorOnly} where the change has no reason to give (registering a spec: {@code start},
 * {@code apply}, {@code run}).
 */
public abstract class AuditOptions {
    @Option(names = "--actor", paramLabel = "NAME", description = "Who makes the change, for the audit log (default: the OS user).")
    String actor = System.getProperty("user.name");

    abstract String reason();

    /** {@code --reason} must be given. */
    public static final class Required extends AuditOptions {
        @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why (required; audited).")
        String reason;

        @Override
        String reason() {
            return reason;
        }
    }

    /** {@code --reason} may be given. */
    public static final class Optional extends AuditOptions {
        @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for the audit log.")
        String reason;

        @Override
        String reason() {
            return reason;
        }
    }

    /** No {@code --reason}: only who makes the change. */
    public static final class ActorOnly extends AuditOptions {
        @Override
        String reason() {
            return null;
        }
    }
}
