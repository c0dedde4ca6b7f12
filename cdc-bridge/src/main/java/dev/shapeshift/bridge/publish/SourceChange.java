package dev.shapeshift.bridge.publish;

import dev.shapeshift.bridge.capture.TableId;
import dev.shapeshift.refresh.Key;
import java.util.List;

/**
 * What the bridge takes from one Debezium row-change record: the table, the keys it touches (two
 * for a key update that arrives as one update with a different old key), and the source position.
 *
 * @param keys    each with the op to publish for it
 * @param txId    the source transaction id, null if unknown
 */
public record SourceChange(TableId table, List<KeyOp> keys, long lsn, long commitTsMicros, Long txId) {

    /** A key and the op published for it. */
    public record KeyOp(Key key, char op) {
    }
}
