package dev.shapeshift.worker.sync;

import dev.shapeshift.catalog.OwnQueries;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkRow;
import dev.shapeshift.sinks.SinkApplier;
import dev.shapeshift.sinks.SinkRefresh;
import java.sql.Connection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sync of a sink-mode migration, one slice at a time: PostgreSQL computes the slice's rows
 * (live rows and tombstones, versioned under the row lock, {@link SinkRefresh}) in one short
 * transaction, which commits before the rows go to the sink ({@link SinkApplier}): no row lock is
 * held while another system answers. The caller commits Kafka offsets only after this returns.
 *
 * <p>Rows the sink refuses for good come back as bad keys: the sync stops at the first record
 * carrying one, exactly like a key PostgreSQL cannot read (docs/sync.md, "Poison records"). A sink
 * that stays unavailable past its retry policy throws {@code SINK_UNAVAILABLE}: the consumer shows
 * the stream DEGRADED and retries the whole batch. The read of the source is declared to the
 * contract's access watch as Shapeshift's ({@code own}).
 */
record SinkSlices(SinkRefresh sinkRefresh, SinkApplier sink, WorkerTransactions transactions, OwnQueries own)
        implements SliceApplier {

    @Override
    public SliceRefresher.Outcome refresh(Connection c, List<Key> slice) {
        List<SinkRow> rows = transactions.run(c, null, t -> {
            List<SinkRow> read = sinkRefresh.forKeys(t, slice);
            own.declare(t, sinkRefresh.ownQueryIds());
            return read;
        });
        SinkApplier.Outcome applied = sink.apply(rows);
        Map<Key, String> bad = new LinkedHashMap<>();
        for (Map.Entry<SinkKey, String> e : applied.refused().entrySet()) {
            bad.put(SinkRefresh.key(e.getKey()), "sink '" + sink.sinkName() + "' refused the row of key "
                    + e.getKey() + " for good: " + e.getValue());
        }
        return new SliceRefresher.Outcome(applied.applied(), bad, 0, 0);
    }

    @Override
    public void close() {
        sink.close();
    }
}
