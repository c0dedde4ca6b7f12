package dev.shapeshift.refresh;

import java.time.Duration;

/**
 * What makes a refresh safe against concurrent writers: the row lock taken on the source rows it
 * reads, what it does when the target row exists, and the fence it holds against the other kind
 * of refresh. Production code uses {@link #SYNC} and {@link #BACKFILL}; tests also build
 * other guards to prove that their checks catch the races the
 * guards prevent (negative controls).
 *
 * @param lock       the lock on source rows read (table mode; in place the UPDATE itself locks)
 * @param onConflict what a table-mode insert does with an existing target row
 * @param fence      which side of the migration's fence the refresh holds (table mode)
 * @param pause      a pause between reading the source and writing the target, for fault tests
 *                   that widen the race window; zero in production
 */
public record Guards(RowLock lock, OnConflict onConflict, Fence fence, Duration pause) {

    public enum RowLock {
        FOR_SHARE("FOR SHARE"),
        FOR_KEY_SHARE("FOR KEY SHARE"),
        NONE("");

        private final String sql;

        RowLock(String sql) {
            this.sql = sql;
        }

        public String sql() {
            return sql;
        }
    }

    public enum OnConflict {
        /** Overwrite only if different: the refresh writes the truth it read under lock. */
        UPDATE_IF_DISTINCT,
        /** Never overwrite: a row already there was written by a refresh that read newer data. */
        NOTHING,
        /**
         * Insert only keys that have no target row (an anti-join, no {@code ON CONFLICT}): the
         * cheapest insert, correct only under {@link Fence#CHUNK}, which keeps every other writer
         * of the target out of the rows while the statement runs.
         */
        INSERT_MISSING,
        /** Overwrite unconditionally and compute values apart from the write: the naive copier. */
        OVERWRITE
    }

    /**
     * The migration's fence (table mode): transaction-scoped advisory locks in
     * {@value Fence#LANES} lanes. A backfill chunk holds every lane shared, so chunks run side by
     * side; a refresh by keys (sync, repair) holds one lane exclusively, so refreshes run side by
     * side but never while a chunk statement is between its read and its write. PostgreSQL queues
     * a new shared request behind a waiting exclusive one, so a sync waits for at most the chunk
     * transactions already running.
     */
    public enum Fence {
        /** Holds no fence. */
        NONE,
        /** Backfill chunks: every lane, shared. */
        CHUNK,
        /** Sync and repair: one lane (the backend's), exclusive. */
        KEYS;

        public static final int LANES = 16;
    }

    /** Sync and repair: read under FOR SHARE, overwrite when different, fenced off from chunks. */
    public static final Guards SYNC = new Guards(RowLock.FOR_SHARE, OnConflict.UPDATE_IF_DISTINCT, Fence.KEYS,
            Duration.ZERO);
    /**
     * Backfill chunks: no row lock on the source, a plain insert of the missing keys, inside the
     * fence. Nothing can change a target row of the chunk between its read and its write, and a
     * source change committed meanwhile is refreshed by its sync after the chunk commits.
     */
    public static final Guards BACKFILL = new Guards(RowLock.NONE, OnConflict.INSERT_MISSING, Fence.CHUNK,
            Duration.ZERO);
    /** No lock, blind overwrite: what the guards prevent. Only for negative-control tests. */
    public static final Guards UNGUARDED = new Guards(RowLock.NONE, OnConflict.OVERWRITE, Fence.NONE, Duration.ZERO);

    public Guards withPause(Duration pause) {
        return new Guards(lock, onConflict, fence, pause);
    }

    public boolean pauses() {
        return !pause.isZero();
    }
}
