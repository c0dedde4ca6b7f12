package dev.shapeshift.coordinator.gate;

import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.phase.Phase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Everything the gates look at for one migration, read from the catalog at one moment. The gates
 * themselves ({@link Gates}) are pure functions of this record.
 *
 * @param backfillFinishedAt when the last chunk finished; null when not all are done
 * @param lastFullRun        the latest finished ({@code done}) reconcile run; null when none
 * @param openDrift          drift rows not resolved
 * @param newShape           whether the expand's new shape exists in the database; read only in
 *                           phase {@code planned} (for the {@code expanded} gate), else null
 * @param streams            the migration's sync streams ({@code shapeshift.sync_stream}), by partition
 * @param structure          the staged structure (docs/constraints.md): what is not enforced yet and the findings
 */
public record Evidence(String migration, Phase phase, Instant phaseChangedAt, Instant now, int chunks,
                       int chunksDone, Instant backfillFinishedAt, String slotName, String startLsn, SyncLag lag,
                       ReconcileRun lastFullRun, long openDrift, Duration cleanFor, Duration maxLag,
                       Duration quietPeriod, NewShape newShape, List<SyncStream> streams, Structure structure,
                       WriteEvidence writes) {

    /** Evidence of a migration without a write switch. */
    public Evidence(String migration, Phase phase, Instant phaseChangedAt, Instant now, int chunks, int chunksDone,
                    Instant backfillFinishedAt, String slotName, String startLsn, SyncLag lag, ReconcileRun lastFullRun,
                    long openDrift, Duration cleanFor, Duration maxLag, Duration quietPeriod, NewShape newShape,
                    List<SyncStream> streams, Structure structure) {
        this(migration, phase, phaseChangedAt, now, chunks, chunksDone, backfillFinishedAt, slotName, startLsn, lag,
                lastFullRun, openDrift, cleanFor, maxLag, quietPeriod, newShape, streams, structure, null);
    }

    /** The migration's phase order (without a write switch when no write evidence was read). */
    public dev.shapeshift.phase.PhasePlan plan() {
        return writes != null ? writes.plan() : dev.shapeshift.phase.PhasePlan.of(dev.shapeshift.spec.Writes.none());
    }

    public Evidence {
        streams = streams == null ? List.of() : List.copyOf(streams);
        structure = structure == null ? Structure.NONE : structure;
    }

    /** Evidence of a migration without staged structure. */
    public Evidence(String migration, Phase phase, Instant phaseChangedAt, Instant now, int chunks, int chunksDone,
                    Instant backfillFinishedAt, String slotName, String startLsn, SyncLag lag, ReconcileRun lastFullRun,
                    long openDrift, Duration cleanFor, Duration maxLag, Duration quietPeriod, NewShape newShape,
                    List<SyncStream> streams) {
        this(migration, phase, phaseChangedAt, now, chunks, chunksDone, backfillFinishedAt, slotName, startLsn, lag,
                lastFullRun, openDrift, cleanFor, maxLag, quietPeriod, newShape, streams, Structure.NONE);
    }

    /**
     * The staged structure as the database has it.
     *
     * @param pending  items not enforced yet (labels)
     * @param findings stored findings: rows that violate an item
     * @param summary  the findings in one line; empty when none
     */
    public record Structure(List<String> pending, long findings, String summary) {
        public static final Structure NONE = new Structure(List.of(), 0, "");

        public Structure {
            pending = List.copyOf(pending);
        }
    }

    /** The new shape (columns or table) as the database has it: present, or what is missing. */
    public record NewShape(boolean exists, String detail) {
    }

    /** Evidence without a look at the new shape (every phase but {@code planned}) and with no sync stream. */
    public Evidence(String migration, Phase phase, Instant phaseChangedAt, Instant now, int chunks, int chunksDone,
                    Instant backfillFinishedAt, String slotName, String startLsn, SyncLag lag, ReconcileRun lastFullRun,
                    long openDrift, Duration cleanFor, Duration maxLag, Duration quietPeriod) {
        this(migration, phase, phaseChangedAt, now, chunks, chunksDone, backfillFinishedAt, slotName, startLsn, lag,
                lastFullRun, openDrift, cleanFor, maxLag, quietPeriod, null, List.of());
    }

    /** Evidence with the sync streams, without a look at the new shape (every phase but {@code planned}). */
    public Evidence(String migration, Phase phase, Instant phaseChangedAt, Instant now, int chunks, int chunksDone,
                    Instant backfillFinishedAt, String slotName, String startLsn, SyncLag lag, ReconcileRun lastFullRun,
                    long openDrift, Duration cleanFor, Duration maxLag, Duration quietPeriod, List<SyncStream> streams) {
        this(migration, phase, phaseChangedAt, now, chunks, chunksDone, backfillFinishedAt, slotName, startLsn, lag,
                lastFullRun, openDrift, cleanFor, maxLag, quietPeriod, null, streams);
    }

    /** How long the migration has been in its current phase. */
    public Duration inPhase() {
        return phaseChangedAt == null ? Duration.ZERO : Duration.between(phaseChangedAt, now);
    }
}
