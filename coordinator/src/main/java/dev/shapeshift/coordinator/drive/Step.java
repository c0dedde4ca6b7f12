package dev.shapeshift.coordinator.drive;

import dev.shapeshift.phase.Phase;

/**
 * The one next thing the driver does for a migration, chosen by {@link NextStep}.
 *
 * @param kind   what to do
 * @param to     the phase an {@link Kind#ADVANCE} moves to, or whose gate a {@link Kind#WAIT} reports; else null
 * @param reason the audit reason of a move, or what a wait waits for (the migration's message)
 */
public record Step(Kind kind, Phase to, String reason) {
    /** The audit action of the clean-up after the contract: a migration with it is finished. */
    public static final String CLEANUP_ACTION = "driver cleanup";
    /** The audit action of the index step after the backfill: what was measured and rebuilt. */
    public static final String INDEX_ACTION = "driver index compaction";

    public enum Kind {
        /** planned: apply the additive DDL, ensure the topics, move to expanded. */
        EXPAND,
        /** Move to {@code to} through its gate; a closed gate is waiting, not an error. */
        ADVANCE,
        /** syncing (or backfilling without a plan): plan the chunks once, publish them, move to backfilling. */
        PLAN_BACKFILL,
        /**
         * backfilled: find the rows that violate the staged structure (stored as findings), enforce
         * every clean item (indexes, checks, foreign keys, NOT NULL); see docs/constraints.md.
         */
        ENFORCE,
        /**
         * backfilled, once: measure the written table's B-tree indexes against a one-pass build and rebuild
         * those above {@code reindex-above-pct} with {@code REINDEX INDEX CONCURRENTLY} (docs/phases.md).
         */
        COMPACT_INDEXES,
        /**
         * backfilling, stalled (no chunk progressed for {@code stallAfter}, not paused): publish the
         * tasks of the chunks neither done nor failed again. A task can be lost to the workers (its
         * offset committed by a consumer of another deployment sharing the migration's name and
         * Kafka cluster, a topic recreated under a group's committed offsets); a second task of a
         * chunk is harmless (a worker finds it done, or waits for its lease).
         */
        REPUBLISH_CHUNKS,
        /** Run (or continue) one reconcile pass. */
        RECONCILE,
        /** Drift after the read switch: flip reads back to verified. */
        REVERT_READS,
        /**
         * The write switch was undone: once applications have seen the write flag off and the reverse
         * sync caught up, turn the sync forward and restore relaxed NOT NULL constraints.
         */
        DRAIN_REVERSE,
        /**
         * contract-ready with {@code contract.brownout}, every other contract check passing: revoke the
         * application roles' access to the old shape for the window (docs/contract.md, Brownout).
         */
        BROWNOUT_START,
        /** A brownout runs: collect the failed statements from the server log; restore access when it is due. */
        BROWNOUT,
        /** A brownout runs but the migration left contract-ready: restore access now. */
        BROWNOUT_END,
        /** contract-ready with {@code contract.approval: auto}: archive and drop the old shape. */
        CONTRACT,
        /** contracted: remove the publication entry, slot and topics the migration no longer needs. */
        CLEANUP,
        /** Nothing to do now; {@code reason} says what the migration waits for. */
        WAIT,
        /** The migration is finished: no driver needed. */
        DONE
    }

    static Step of(Kind kind, String reason) {
        return new Step(kind, null, reason);
    }

    static Step advance(Phase to, String reason) {
        return new Step(Kind.ADVANCE, to, reason);
    }

    static Step waitFor(String why) {
        return new Step(Kind.WAIT, null, why);
    }

    static Step waitForGate(Phase to, String why) {
        return new Step(Kind.WAIT, to, why);
    }
}
