package dev.shapeshift.catalog;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The durable state of one sync stream (a migration's changes partition, as its owning worker
 * wrote it in {@code shapeshift.sync_stream}). A new owner always starts at {@link #CATCHING_UP};
 * the transition table is what the sync consumer may write next.
 */
public enum StreamState {
    /** Claimed by a worker that has not applied a batch of it yet. */
    CATCHING_UP,
    /** Applying changes. */
    RUNNING,
    /** Waiting at a record it cannot apply until an operator runs {@code shapeshift sync skip}. */
    STOPPED_POISON,
    /** A refresh failed for a non-transient reason; retried with back-off, resumes by itself. */
    STOPPED_ERROR,
    /**
     * Sink mode: the sink kept failing with retryable errors past its retry policy (the message
     * says why); nothing is committed past the unapplied changes, retried until the sink answers.
     */
    DEGRADED;

    private static final Map<StreamState, Set<StreamState>> NEXT = Map.of(
            CATCHING_UP, EnumSet.of(RUNNING, STOPPED_POISON, STOPPED_ERROR, DEGRADED),
            RUNNING, EnumSet.of(STOPPED_POISON, STOPPED_ERROR, DEGRADED),
            STOPPED_POISON, EnumSet.of(RUNNING),
            STOPPED_ERROR, EnumSet.of(RUNNING, STOPPED_POISON, DEGRADED),
            DEGRADED, EnumSet.of(RUNNING, STOPPED_POISON, STOPPED_ERROR));

    public boolean canMoveTo(StreamState to) {
        return NEXT.get(this).contains(to);
    }

    /** Not applying changes: stopped at a record, on an error, or waiting for a degraded sink. */
    public boolean stopped() {
        return this == STOPPED_POISON || this == STOPPED_ERROR || this == DEGRADED;
    }
}
