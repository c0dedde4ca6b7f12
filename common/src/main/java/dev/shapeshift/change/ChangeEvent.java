package dev.shapeshift.change;

import dev.shapeshift.refresh.Key;

/**
 * One row change as the bridge publishes it to {@code shapeshift.<migration>.changes}. Only the
 * key travels: the refresh reads current values from the table, so replays, duplicates and
 * reordering are harmless and unchanged-TOAST placeholders never matter.
 *
 * @param migration the migration whose source table changed
 * @param key       the source key (for a key update: one event for the old key, one for the new)
 * @param op        c (insert), u (update), d (delete), r (snapshot read), or h (heartbeat, no key)
 * @param lsn       the change's WAL position
 * @param commitTsMicros the source transaction's commit time, microseconds since the epoch (0 if unknown)
 * @param txId      the source transaction id (0 if unknown)
 * @param oldShape  the change writes the old shape of a migration with a write switch: in table mode
 *                  any row change of the source table (the new shape is another table); in place an
 *                  INSERT or UPDATE that writes an old column new code stops writing (the bridge compares
 *                  the UPDATE's before image, sent in full once the write switch set REPLICA IDENTITY
 *                  FULL). After the write switch only an application still writing the old shape makes
 *                  one (the workers' own writes never reach the topic). False for every other change
 */
public record ChangeEvent(String migration, Key key, char op, long lsn, long commitTsMicros, long txId,
                          boolean oldShape) {
    public ChangeEvent(String migration, Key key, char op, long lsn, long commitTsMicros, long txId) {
        this(migration, key, op, lsn, commitTsMicros, txId, false);
    }

    public boolean heartbeat() {
        return op == 'h';
    }
}
