package dev.shapeshift.worker.sync;

/** Where one migration's sync consumer is. Stopped states say why; they need an operator. */
public enum SyncState {
    STARTING,
    RUNNING,
    /** A record could not be decoded; the consumer waits at it until an operator skips it. */
    STOPPED_POISON,
    /** A refresh failed for a reason retrying cannot fix (e.g. the transform raised an error). */
    STOPPED_ERROR,
    CLOSED,
    /** Sink mode: the sink failed past its retry policy; retried until it answers (docs/sinks.md). After CLOSED: the gauge is the ordinal. */
    DEGRADED;

    public boolean stopped() {
        return this == STOPPED_POISON || this == STOPPED_ERROR || this == DEGRADED;
    }
}
