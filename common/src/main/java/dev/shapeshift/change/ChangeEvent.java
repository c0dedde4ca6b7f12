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
 */
public record ChangeEvent(String migration, Key key, char op, long lsn, long commitTsMicros, long txId) {
    public boolean heartbeat() {
        return op == 'h';
    }
}
