package dev.shapeshift.error;

/**
 * Every failure Shapeshift reports has one of these codes. Whether a failure is worth retrying
 * is decided by the code (or by SQLState for database errors), never by message text.
 */
public enum ErrorCode {
    /** The spec file could not be read or parsed (YAML syntax, unknown field, wrong type). */
    SPEC_MALFORMED(false, 10),
    /** The spec parsed but is invalid: against itself or against the live database. */
    SPEC_INVALID(false, 10),
    /** A database or broker could not be reached. */
    UNREACHABLE(true, 3),
    /** A transient database condition: lock timeout, deadlock, serialization failure. */
    TRANSIENT(true, 4),
    /** A phase transition was refused because its gate is not satisfied. */
    GATE_CLOSED(false, 5),
    /** The phase machine has no such move (e.g. contracted → syncing). */
    ILLEGAL_TRANSITION(false, 12),
    /** A concurrent actor changed the state first (compare-and-set lost). */
    CONFLICT(true, 6),
    /** A requested object (migration, chunk, flag) does not exist. */
    NOT_FOUND(false, 7),
    /** The source changed under a running migration (DDL, slot lost): stop, never guess. */
    SOURCE_CHANGED(false, 8),
    /** A change record could not be decoded; sync for that migration stops. */
    POISON_RECORD(false, 9),
    /** The caller is not authenticated or not allowed. */
    UNAUTHORIZED(false, 11),
    /** What was waited for ({@code shapeshift wait}) did not happen within the time given. */
    TIMED_OUT(true, 13),
    /** {@code shapeshift check}: a migration is past its {@code contract.deadline} without its contract. */
    CONTRACT_OVERDUE(false, 14),
    /**
     * The command line was wrong: a missing or malformed option or argument (picocli's own usage
     * errors have the same exit code).
     */
    USAGE(false, 2),
    /**
     * A process's configuration (options, environment, config file) is unusable: a missing or too
     * short token, a bad port, URL or interval. Not the spec's fault, so not {@link #SPEC_INVALID}.
     */
    CONFIG_INVALID(false, 15),
    /** The PostgreSQL server is older than the oldest major Shapeshift supports (docs/compatibility.md). */
    UNSUPPORTED_SERVER(false, 16),
    /**
     * A sink (docs/sinks.md) kept failing with retryable errors past its retry policy: the sync or
     * backfill for it is degraded and keeps retrying at the policy's longest back-off.
     */
    SINK_UNAVAILABLE(true, 17),
    /** A fault in Shapeshift itself or an unexpected database error. */
    INTERNAL(false, 1);

    private final boolean retryable;
    private final int exitCode;

    ErrorCode(boolean retryable, int exitCode) {
        this.retryable = retryable;
        this.exitCode = exitCode;
    }

    public boolean retryable() {
        return retryable;
    }

    /** The process exit code the CLI uses for this failure (documented in docs/cli.md). */
    public int exitCode() {
        return exitCode;
    }
}
