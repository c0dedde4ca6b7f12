package dev.shapeshift.scenarios;

import java.util.List;

/**
 * A scenario's {@code expected.yaml}: either {@code converges: true} (after catch-up the target equals
 * {@code expected.sql} row by row and no deleted key came back) or {@code stops} (the migration
 * must stop loudly, never skip). {@code maxBackfillSeconds} (optional) bounds the time from the
 * chunks' publication to backfilled: a backfill that stalls while looking healthy is a failure too.
 * {@code findings} (optional, with {@code converges}): staged structure the data violates; the
 * driver must store these findings and enforce nothing over them.
 */
record Expected(Boolean converges, Stop stops, Integer maxBackfillSeconds, List<Finding> findings) {

    /**
     * @param item      the staged item's label, e.g. {@code unique index src_a_key_key}
     * @param kind      {@code duplicate}, {@code null}, {@code check} or {@code orphan}
     * @param violators a hand-written query over the source: the key (as text) of every violating row
     * @param total     a hand-written query: the count the finding must report (rows; for duplicates, groups)
     */
    record Finding(String item, String kind, String violators, String total) {
    }

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
