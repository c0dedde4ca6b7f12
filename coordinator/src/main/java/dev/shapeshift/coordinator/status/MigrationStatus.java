package dev.shapeshift.coordinator.status;

import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.FlagStore.Flag;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.gate.ReconcileRun;
import dev.shapeshift.phase.Phase;
import java.time.Instant;
import dev.shapeshift.catalog.FindingStore;
import java.util.List;
import java.util.Map;

/**
 * Everything an operator wants to know about one migration, as served by the API and the dashboard.
 *
 * @param plan   the migration's phases in its order (with or without the write switch), rolled-back not in it
 * @param writes the write switch's state; null when the spec has none ({@code writes.switch: false})
 */
public record MigrationStatus(String name, Phase phase, String message, Instant phaseChangedAt, Instant updatedAt,
                              Instant now, List<Phase> next, List<GateReport> gates, Progress progress, Sync sync,
                              Drift drift, ReconcileRun lastReconcileRun, Settings settings, Flag flag,
                              List<PhaseChange> timeline, List<FindingStore.Finding> findings, List<Phase> plan,
                              Writes writes) {

    /** The sentence status pages show when the spec has no reverse transforms. */
    public static final String NO_REVERSE = "no writes.reverse: rollback after the write switch is impossible";

    /**
     * The write switch (docs/phases.md, "The write switch").
     *
     * @param direction        which shape the sync writes now: {@code forward} (new = transform(old)) or
     *                         {@code reverse} (old = reverse(new, old))
     * @param writeFlagName    the write flag's name ({@code writes.flag}, default {@code <name>.write-new})
     * @param writeFlag        the write flag as stored; null if never set
     * @param readsNew         whether applications read the new shape in this phase (the read flag's value by the phase)
     * @param writesBoth       whether applications are asked to write both shapes in this phase
     * @param writesNew        whether applications write only the new shape in this phase (the write flag's value by the phase)
     * @param mismatches       distinct keys ever recorded as {@code dual-write-mismatch}
     * @param recentMismatches of those, last seen within {@code writes.cleanFor}
     * @param mismatchKeys     a few of the most recent mismatched keys (JSON arrays of the key's values)
     * @param relaxedNotNull   old columns whose NOT NULL the write switch relaxed (restored when it is undone)
     * @param reversible       whether the spec gives reverse transforms ({@code writes.reverse})
     * @param rollback         what a rollback can do from here, in words; {@link #NO_REVERSE} when it cannot
     *                         rebuild the old shape after the write switch
     * @param oldShapeWrites   after the write switch: what still writes the old shape (the gate check
     *                         {@code no-old-shape-writes}: keys of the old table an application changed,
     *                         from the change stream in table mode, and the statements from
     *                         pg_stat_statements); null before the write switch
     */
    public record Writes(String direction, String writeFlagName, Flag writeFlag, boolean readsNew, boolean writesBoth,
                         boolean writesNew, long mismatches, long recentMismatches, List<String> mismatchKeys,
                         List<String> relaxedNotNull, boolean reversible, String rollback, OldShapeWrites oldShapeWrites) {
        public Writes {
            mismatchKeys = mismatchKeys == null ? List.of() : List.copyOf(mismatchKeys);
            relaxedNotNull = relaxedNotNull == null ? List.of() : List.copyOf(relaxedNotNull);
        }

        public Writes(String direction, String writeFlagName, Flag writeFlag, boolean readsNew, boolean writesBoth,
                      boolean writesNew, long mismatches, long recentMismatches, List<String> mismatchKeys,
                      List<String> relaxedNotNull, boolean reversible, String rollback) {
            this(direction, writeFlagName, writeFlag, readsNew, writesBoth, writesNew, mismatches, recentMismatches,
                    mismatchKeys, relaxedNotNull, reversible, rollback, null);
        }

        /** What applications are asked to do in this phase, in words. */
        public String applications() {
            return "read the " + (readsNew ? "new" : "old") + " shape, write " + (writesNew ? "only the new shape"
                    : writesBoth ? "both shapes" : "the old shape");
        }
    }

    /**
     * Writes of the old shape after the write switch (docs/phases.md, "Old-shape writes after the switch").
     *
     * @param recentKeys  keys of the old table an application changed within the quiet period (change stream, table mode)
     * @param keys        such keys since the write switch
     * @param lastChange  the latest such change's commit time (ISO-8601); null when none in the quiet period
     * @param sampleKeys  a few of the recent keys with their latest commit time
     * @param statements  statements writing only the old shape seen within the quiet period (pg_stat_statements)
     * @param check       the gate check's verdict and words
     */
    public record OldShapeWrites(long recentKeys, long keys, String lastChange, List<String> sampleKeys,
                                 List<String> statements, boolean passed, String check) {
        public OldShapeWrites {
            sampleKeys = sampleKeys == null ? List.of() : List.copyOf(sampleKeys);
            statements = statements == null ? List.of() : List.copyOf(statements);
        }
    }

    /** @param etaSeconds null when unknown (no rate yet); 0 when every chunk is done */
    /**
     * @param throttled the running chunks whose workers wait on their throttle: which worker, why,
     *                  since when (empty when none waits)
     */
    public record Progress(int chunks, int chunksDone, int chunksRunning, int chunksFailed, long rowsCopied,
                           long estimatedRows, double rowsPerSecond, Long etaSeconds, List<ChunkStore.Throttled> throttled) {

        /** {@code throttled: lag_s=8.1 > 5 (2 chunks, w1 w2, for 40s)}; null when nothing is throttled. */
        public String throttleSummary(Instant now) {
            if (throttled == null || throttled.isEmpty()) {
                return null;
            }
            ChunkStore.Throttled longest = throttled.get(0);
            java.util.Set<String> owners = new java.util.TreeSet<>();
            throttled.forEach(t -> owners.add(String.valueOf(t.owner())));
            String kind = longest.reason().replaceAll("[0-9.]+", "#");
            long sameReason = throttled.stream().filter(t -> t.reason().replaceAll("[0-9.]+", "#").equals(kind)).count();
            return "throttled: " + longest.reason() + " (" + sameReason + " of " + chunksRunning + " running chunk(s), "
                    + String.join(" ", owners) + (longest.since() == null ? ""
                    : ", for " + dev.shapeshift.coordinator.gate.Gates.format(java.time.Duration.between(longest.since(), now)))
                    + ")" + (throttled.size() > sameReason ? "; other reasons on " + (throttled.size() - sameReason) + " chunk(s)" : "");
        }
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
    /** The live knobs ({@code dev.shapeshift.catalog.Knob}) set for the migration; null = not set (the default applies). */
    public record Settings(boolean paused, Long maxRowsPerSecond, Long maxActiveBackends, Long maxAppLatencyMs,
                           Long maxAppLatencyPct, Long appLatencyBaselineUs) {
    }

    public record PhaseChange(Phase from, Phase to, Instant at, String actor, String reason) {
    }
}
