package dev.shapeshift.worker.sync;

import dev.shapeshift.refresh.Key;
import java.sql.Connection;
import java.util.List;

/** Makes one slice of a sync batch's keys current in the new shape: a table ({@link SliceRefresher}) or a sink ({@link SinkSlices}). */
interface SliceApplier extends AutoCloseable {
    SliceRefresher.Outcome refresh(Connection c, List<Key> slice);

    /**
     * As {@link #refresh(Connection, List)}, told which keys of the batch had changes that wrote
     * the old shape of a write switch (a table applier records them when it refreshes in reverse).
     */
    default SliceRefresher.Outcome refresh(Connection c, List<Key> slice,
                                           java.util.Map<Key, dev.shapeshift.refresh.Refresher.OldShapeChange> oldShape) {
        return refresh(c, slice);
    }

    @Override
    default void close() {
    }
}
