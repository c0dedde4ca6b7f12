package dev.shapeshift.coordinator.reconcile;

import dev.shapeshift.coordinator.reconcile.Differ.Comparison;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeyRange;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.function.Consumer;

/**
 * Compares the new shape with transform(source) for the {@link Reconciler} and the
 * {@link Repairer}: a table or in-place target ({@link Differ}, pushed down into PostgreSQL) or a
 * sink ({@link SinkDiffer}, transform(source) from PostgreSQL against what the sink reads back).
 */
interface Comparer extends AutoCloseable {

    /** The comparer of this migration's target. */
    static Comparer open(Connection c, ResolvedSpec resolved) {
        return resolved.spec().mode() == Mode.SINK ? SinkDiffer.open(resolved) : Differ.create(c, resolved);
    }

    Comparison compare(Connection c, KeyRange range) throws SQLException;

    Comparison compare(Connection c, Collection<Key> keys) throws SQLException;

    Key rangeEnd(Connection c, Key after, int rows) throws SQLException;

    Key lastKey(Connection c, Key after) throws SQLException;

    long estimatedRows(Connection c) throws SQLException;

    /**
     * The {@code pg_stat_statements} query ids of the statements this comparer ran that read the
     * source (the old shape), learned so far ({@link dev.shapeshift.db.QueryIds}): the reconciler
     * declares them to the contract's access watch as Shapeshift's own.
     */
    java.util.Set<Long> ownQueryIds();

    /**
     * Differences the range walk cannot see, reported page by page after it: a sink's live rows
     * whose source row is gone (a table target's extras are in its ranges already).
     */
    default void extras(Connection c, Consumer<Comparison> page) throws SQLException {
    }

    @Override
    default void close() {
    }
}
