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
 * @param oldShape  the change is a row change of the migration's source table in table mode with a
 *                  write switch, where the new shape is another table: after the write switch only an
 *                  application still writing the old shape makes one (the workers' own writes never
 *                  reach the topic). False for every other change, in place included (there a row
 *                  change does not say which columns it changed)
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
