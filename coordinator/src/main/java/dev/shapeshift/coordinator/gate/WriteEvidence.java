package dev.shapeshift.coordinator.gate;

import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.refresh.SyncDirection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What the write-switch gates look at (docs/phases.md, "The write switch").
 *
 * @param plan              the migration's phase order
 * @param reversible        whether the spec gives reverse transforms (rollback after the write switch possible)
 * @param direction         the sync's direction now
 * @param dualWritesSince   when the migration last entered {@code dual-writes}; null if never
 * @param cleanFor          spec {@code writes.cleanFor}
 * @param recentMismatches  dual-write mismatches last seen within {@code cleanFor}
 * @param totalMismatches   distinct keys ever recorded as dual-write mismatches
 * @param mismatchSample    a few of the most recent mismatched keys
 * @param roundTrip         the round trip on live rows; null when not checked (only for the write switch)
 * @param statements        the application's writes of the new shape in pg_stat_statements; null when
 *                          not required (spec {@code writes.statementEvidence: false})
 * @param oldShapeWrites    after the write switch: statements writing only the old shape called since
 *                          and seen growing within the quiet period ({@code OldShapeWrites}); null when not
 *                          read or pg_stat_statements is not readable
 * @param oldShapeChanges   after the write switch (table mode): the old table's row changes the change
 *                          stream showed within the quiet period; null when not read
 * @param sequencesBehind   after the write switch, table mode: the new table's key sequences that fell
 *                          behind a key ({@code KeySequences.behind}); null when not read
 */
public record WriteEvidence(PhasePlan plan, boolean reversible, SyncDirection direction, Instant dualWritesSince,
                            Duration cleanFor, long recentMismatches, long totalMismatches, List<String> mismatchSample,
                            RoundTrip roundTrip, Statements statements,
                            List<dev.shapeshift.coordinator.writes.OldShapeWrites.Statement> oldShapeWrites,
                            dev.shapeshift.coordinator.writes.OldShapeWrites.Changes oldShapeChanges,
                            List<String> sequencesBehind) {
    /** Without the old-shape changes of the change stream and the key sequences. */
    public WriteEvidence(PhasePlan plan, boolean reversible, SyncDirection direction, Instant dualWritesSince,
                         Duration cleanFor, long recentMismatches, long totalMismatches, List<String> mismatchSample,
                         RoundTrip roundTrip, Statements statements,
                         List<dev.shapeshift.coordinator.writes.OldShapeWrites.Statement> oldShapeWrites) {
        this(plan, reversible, direction, dualWritesSince, cleanFor, recentMismatches, totalMismatches, mismatchSample,
                roundTrip, statements, oldShapeWrites, null, null);
    }

    public WriteEvidence {
        mismatchSample = mismatchSample == null ? List.of() : List.copyOf(mismatchSample);
    }

    /** Without the old-shape writes (before the write switch). */
    public WriteEvidence(PhasePlan plan, boolean reversible, SyncDirection direction, Instant dualWritesSince,
                         Duration cleanFor, long recentMismatches, long totalMismatches, List<String> mismatchSample,
                         RoundTrip roundTrip, Statements statements) {
        this(plan, reversible, direction, dualWritesSince, cleanFor, recentMismatches, totalMismatches, mismatchSample,
                roundTrip, statements, null, null, null);
    }

    /**
     * @param rows     rows the round trip was evaluated on (all, or the sample)
     * @param failures keys where transform(reverse(new, old)) differs from new (at most a few)
     * @param error    the database's error when the statement failed (e.g. a reverse that does not parse); else null
     * @param inProgress a check running in this process now, not finished: {@code rows} says how far it is
     */
    public record RoundTrip(String rows, List<String> failures, String error, boolean inProgress) {
        public RoundTrip {
            failures = List.copyOf(failures);
        }

        public RoundTrip(String rows, List<String> failures, String error) {
            this(rows, failures, error, false);
        }

        public boolean holds() {
            return error == null && failures.isEmpty() && !inProgress;
        }
    }

    /**
     * @param available whether pg_stat_statements could be read
     * @param writes    the application's INSERT/UPDATE statements on the table that name a new column
     * @param detail    why not available, when not
     */
    public record Statements(boolean available, List<String> writes, String detail) {
        public Statements {
            writes = List.copyOf(writes);
        }
    }
}
