package dev.shapeshift.worker.sync;

import dev.shapeshift.refresh.Key;
import java.sql.Connection;
import java.util.List;

/** Makes one slice of a sync batch's keys current in the new shape: a table ({@link SliceRefresher}) or a sink ({@link SinkSlices}). */
interface SliceApplier extends AutoCloseable {
    SliceRefresher.Outcome refresh(Connection c, List<Key> slice);

    @Override
    default void close() {
    }
}
