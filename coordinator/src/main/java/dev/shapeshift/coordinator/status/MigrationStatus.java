package dev.shapeshift.coordinator.status;

import dev.shapeshift.catalog.FlagStore.Flag;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.gate.ReconcileRun;
import dev.shapeshift.phase.Phase;
import java.time.Instant;
import dev.shapeshift.catalog.FindingStore;
import java.util.List;
import java.util.Map;

/** Everything an operator wants to know about one migration, as served by the API and the dashboard. */
public record MigrationStatus(String name, Phase phase, String message, Instant phaseChangedAt, Instant updatedAt,
                              Instant now, List<Phase> next, List<GateReport> gates, Progress progress, Sync sync,
                              Drift drift, ReconcileRun lastReconcileRun, Settings settings, Flag flag,
                              List<PhaseChange> timeline, List<FindingStore.Finding> findings) {

    /** @param etaSeconds null when unknown (no rate yet); 0 when every chunk is done */
    public record Progress(int chunks, int chunksDone, int chunksRunning, int chunksFailed, long rowsCopied,
                           long estimatedRows, double rowsPerSecond, Long etaSeconds) {
    }

    /**
     * @param lagBytes   WAL bytes the slot has not confirmed (retention, not lag)
     * @param lagSeconds age of the newest source commit the slowest sync stream applied; null when unknown
     *                   (a stream stopped or missing); a transition probes the exact catch-up instead
     * @param streams    the durable sync stream of every partition ({@code shapeshift.sync_stream})
     */
    public record Sync(String slotName, String startLsn, Long lagBytes, Double lagSeconds,
                       Double heartbeatAgeSeconds, String detail, List<SyncStream> streams) {

        /** Streams stopped at a poison record or on an error. */
        public long stopped() {
            return streams == null ? 0 : streams.stream().filter(s -> s.state().stopped()).count();
        }
    }

    /** @param open open drift rows by kind (missing, extra, different), all kinds present */
    public record Drift(Map<String, Long> open, long openTotal, long resolved) {
    }

    /** Live knobs ({@code shapeshift.setting}); {@code maxRowsPerSecond} null = the spec's default. */
    public record Settings(boolean paused, Long maxRowsPerSecond) {
    }

    public record PhaseChange(Phase from, Phase to, Instant at, String actor, String reason) {
    }
}
