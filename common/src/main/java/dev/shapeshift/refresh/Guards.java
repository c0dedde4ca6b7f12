package dev.shapeshift.refresh;

import java.time.Duration;

/**
 * The two things that make a refresh safe against concurrent writers: the row lock taken on the
 * source rows it reads, and what it does when the target row exists. Production code uses
 * {@link #SYNC} and {@link #BACKFILL}; tests also build {@link #UNGUARDED} to prove that their
 * checks catch the race the guards prevent (the negative control).
 *
 * @param lock       the lock on source rows read (table mode; in place the UPDATE itself locks)
 * @param onConflict what a table-mode insert does with an existing target row
 * @param pause      a pause between reading the source and writing the target, for fault tests
 *                   that widen the race window; zero in production
 */
public record Guards(RowLock lock, OnConflict onConflict, Duration pause) {

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
        /** Overwrite unconditionally and compute values apart from the write: the naive copier. */
        OVERWRITE
    }

    /** Sync and repair: read under FOR SHARE, overwrite when different. */
    public static final Guards SYNC = new Guards(RowLock.FOR_SHARE, OnConflict.UPDATE_IF_DISTINCT, Duration.ZERO);
    /** Backfill chunks: FOR KEY SHARE never blocks application updates; never overwrite. */
    public static final Guards BACKFILL = new Guards(RowLock.FOR_KEY_SHARE, OnConflict.NOTHING, Duration.ZERO);
    /** No lock, blind overwrite: what the guards prevent. Only for negative-control tests. */
    public static final Guards UNGUARDED = new Guards(RowLock.NONE, OnConflict.OVERWRITE, Duration.ZERO);

    public Guards withPause(Duration pause) {
        return new Guards(lock, onConflict, pause);
    }

    public boolean pauses() {
        return !pause.isZero();
    }
}
