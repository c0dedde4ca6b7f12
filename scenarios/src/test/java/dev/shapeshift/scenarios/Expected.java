package dev.shapeshift.scenarios;

/**
 * A scenario's {@code expected.yaml}: either {@code converges: true} (after catch-up the target equals
 * {@code expected.sql} row by row and no deleted key came back) or {@code stops} (the migration
 * must stop loudly, never skip). {@code maxBackfillSeconds} (optional) bounds the time from the
 * chunks' publication to backfilled: a backfill that stalls while looking healthy is a failure too.
 */
record Expected(Boolean converges, Stop stops, Integer maxBackfillSeconds) {

    /**
     * @param code            where the stop must show: {@code STOPPED_ERROR} (the sync's catalog message),
     *                        {@code CHUNK_FAILED} (a failed backfill chunk's error) or {@code ANY}
     * @param messageContains text the stop message must contain
     */
    record Stop(String code, String messageContains) {
    }

    Expected {
        if ((converges == null || !converges) == (stops == null)) {
            throw new IllegalArgumentException("expected.yaml: give exactly one of 'converges: true' or 'stops: {…}'");
        }
    }

    boolean shouldConverge() {
        return stops == null;
    }
}
