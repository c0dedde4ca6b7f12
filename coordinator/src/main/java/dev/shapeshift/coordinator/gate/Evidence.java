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
 * @param streams            the migration's sync streams ({@code shapeshift.sync_stream}), by partition
 */
public record Evidence(String migration, Phase phase, Instant phaseChangedAt, Instant now, int chunks,
                       int chunksDone, Instant backfillFinishedAt, String slotName, String startLsn, SyncLag lag,
                       ReconcileRun lastFullRun, long openDrift, Duration cleanFor, Duration maxLag,
                       Duration quietPeriod, List<SyncStream> streams) {

    public Evidence {
        streams = streams == null ? List.of() : List.copyOf(streams);
    }

    /** How long the migration has been in its current phase. */
    public Duration inPhase() {
        return phaseChangedAt == null ? Duration.ZERO : Duration.between(phaseChangedAt, now);
    }
}
