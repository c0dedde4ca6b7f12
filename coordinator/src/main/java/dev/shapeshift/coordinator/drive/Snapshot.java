package dev.shapeshift.coordinator.drive;

import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.Approval;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.time.Duration;
import java.time.Instant;

/**
 * One migration's durable state, read from the catalog at one moment: everything the driver's
 * choice of the next step ({@link NextStep}) looks at. Nothing here comes from memory. Tests build
 * one with {@code SnapshotBuilder} and change it with the generated {@code withX} copies.
 *
 * @param table              the source table, {@code schema.table}, for messages
 * @param backfillFinishedAt when the last chunk finished; null unless every chunk is done
 * @param lastProgressAt     the latest chunk heartbeat, start or finish, or the latest republishing of the chunk
 *                           tasks of a stalled backfill; null before any
 * @param lastChunkError     the latest error recorded on a chunk; null when none
 * @param paused             the {@code paused} live setting is on
 * @param latestRun          the newest reconcile run (any status); null when none
 * @param latestDoneRun      the newest finished ({@code done}) reconcile run; null when none
 * @param openDrift          drift rows not resolved
 * @param cleanedUp          the driver's clean-up after the contract is recorded in the audit log
 * @param now                the database clock
 * @param structurePending   the staged structure items (indexes, checks, foreign keys, NOT NULL) the database
 *                           does not have enforced yet (docs/constraints.md); empty when none or all done
 * @param findings           stored findings: rows that violate a staged item
 * @param findingsAt         when the latest finding was stored; null when none
 * @param brownout           the spec's brownout and the latest one stored; null when the spec has none and none runs
 * @param relaxedNotNull     old columns whose NOT NULL the write switch relaxed and that are not restored yet
 * @param retryRequested     an operator retried failed chunks ({@code shapeshift backfill retry}) after the driver
 *                           last published chunk tasks: publish them now
 * @param indexesChecked     the driver's index step ran after the backfill finished (an audit entry
 *                           {@link Step#INDEX_ACTION} newer than {@code backfillFinishedAt}); true before the backfill ends
 */
@RecordBuilder
public record Snapshot(String migration, Phase phase, Instant phaseChangedAt, String message, String table,
                       String startLsn, Approval switchApproval, boolean revertOnDrift, Approval contractApproval,
                       Duration reconcileInterval, int chunks, int chunksDone, Instant backfillFinishedAt,
                       Instant lastProgressAt, String lastChunkError, boolean paused, Run latestRun, Run latestDoneRun,
                       long openDrift, boolean cleanedUp, Instant now, java.util.List<String> structurePending,
                       long findings, Instant findingsAt, BrownoutState brownout, dev.shapeshift.phase.PhasePlan plan,
                       dev.shapeshift.refresh.SyncDirection direction, java.util.List<String> relaxedNotNull,
                       boolean retryRequested, boolean indexesChecked) implements SnapshotBuilder.With {

    /**
     * The brownout as the driver sees it (docs/contract.md).
     *
     * @param window      {@code contract.brownout}; null when the spec has none (or drops nothing)
     * @param abortAfter  {@code contract.brownoutAbortAfter}
     * @param quietPeriod {@code contract.quietPeriod}: how long after a failed brownout the next one starts
     * @param id          the latest brownout; null (and the rest null) when none ran
     * @param status      running, passed, failed or aborted
     */
    public record BrownoutState(Duration window, int abortAfter, Duration quietPeriod, Long id, String status,
                                Instant startedAt, Instant endedAt) {
        public boolean running() {
            return "running".equals(status);
        }
    }

    public Snapshot {
        structurePending = structurePending == null ? java.util.List.of() : java.util.List.copyOf(structurePending);
        plan = plan == null ? dev.shapeshift.phase.PhasePlan.of(dev.shapeshift.spec.Writes.none()) : plan;
        direction = direction == null ? dev.shapeshift.refresh.SyncDirection.FORWARD : direction;
        relaxedNotNull = relaxedNotNull == null ? java.util.List.of() : java.util.List.copyOf(relaxedNotNull);
    }

    /**
     * The write switch was undone and not drained yet: the sync still runs reverse while applications
     * no longer write only the new shape, or NOT NULL constraints it relaxed are not restored yet (a
     * restore whose validation failed is tried again by the next drain).
     */
    public boolean draining() {
        return !plan.writesNew(phase) && (direction == dev.shapeshift.refresh.SyncDirection.REVERSE
                || !relaxedNotNull.isEmpty());
    }

    /** A reconcile run as the driver sees it. */
    public record Run(long id, String status, Instant startedAt, Instant finishedAt) {
        /** Left {@code running} (crashed) or {@code stopped}: the next run continues it. */
        public boolean unfinished() {
            return "running".equals(status) || "stopped".equals(status);
        }
    }

    /** How long the migration has been in its phase. */
    public Duration inPhase() {
        return phaseChangedAt == null ? Duration.ZERO : Duration.between(phaseChangedAt, now);
    }
}
