package dev.shapeshift.catalog;

import dev.shapeshift.db.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/**
 * Reads and writes {@code shapeshift.sync_stream}. Only the owner of a row writes it: {@link #claim}
 * takes a partition over (a rebalance moved it), and every later write names the owner, so a worker
 * that lost the partition can no longer change its row.
 */
public final class SyncStreamStore {
    private static final String COLUMNS = "migration, partition, owner, partitions, state, applied_offset, "
            + "applied_lsn::text, applied_commit_at, applied_at, stop_offset, message, updated_at";
    private final Catalog catalog;

    public SyncStreamStore(Catalog catalog) {
        this.catalog = catalog;
    }

    /** The worker {@code owner} now owns the partition; it starts at {@link StreamState#CATCHING_UP}. */
    public void claim(String migration, int partition, int partitions, String owner, String message) {
        catalog.inTransaction("claiming sync stream " + migration + "/" + partition, c -> {
            return Sql.update(c, "INSERT INTO shapeshift.sync_stream (migration, partition, "
                    + "owner, partitions, state, message) VALUES (?, ?, ?, ?, 'CATCHING_UP', ?) ON CONFLICT (migration, "
                    + "partition) DO UPDATE SET owner = EXCLUDED.owner, partitions = EXCLUDED.partitions, "
                    + "state = 'CATCHING_UP', stop_offset = NULL, message = EXCLUDED.message, updated_at = now()",
                    migration, partition, owner, partitions, message);
        });
    }

    /** Writes a state change of a stream {@code owner} owns; false if it no longer owns it. */
    public boolean state(String migration, int partition, String owner, StreamState state, Long stopOffset,
                         String message) {
        return catalog.inTransaction("writing sync stream state " + migration + "/" + partition, c -> {
            return Sql.update(c, "UPDATE shapeshift.sync_stream SET state = ?, stop_offset = ?, "
                    + "message = ?, updated_at = now() WHERE migration = ? AND partition = ? AND owner = ?",
                    state.name(), stopOffset == null ? Sql.nullOf(java.sql.Types.BIGINT) : stopOffset, message,
                    migration, partition, owner) == 1;
        });
    }

    /**
     * Writes progress of a stream {@code owner} owns: positions only move forward (a replay after a
     * rebalance never moves them back). A stream still {@link StreamState#CATCHING_UP} becomes RUNNING.
     *
     * @param lsn source LSN as a number (0 = none in the batch)
     */
    public boolean progress(String migration, int partition, String owner, long offset, long lsn, Instant commitAt,
                            Instant appliedAt) {
        return catalog.inTransaction("writing sync stream progress " + migration + "/" + partition, c ->
                progress(c, migration, partition, owner, offset, lsn, commitAt, appliedAt));
    }

    static boolean progress(Connection c, String migration, int partition, String owner, long offset, long lsn,
                            Instant commitAt, Instant appliedAt) throws SQLException {
        return Sql.update(c, "UPDATE shapeshift.sync_stream SET "
                + "applied_offset = GREATEST(applied_offset, ?), applied_lsn = GREATEST(applied_lsn, ?::pg_lsn), "
                + "applied_commit_at = GREATEST(applied_commit_at, ?), applied_at = ?, "
                + "state = CASE WHEN state = 'CATCHING_UP' THEN 'RUNNING' ELSE state END, "
                + "message = CASE WHEN state = 'CATCHING_UP' THEN NULL ELSE message END, updated_at = now() "
                + "WHERE migration = ? AND partition = ? AND owner = ?",
                offset, lsn > 0 ? lsnText(lsn) : null, Sql.timestamp(commitAt), appliedAt, migration, partition,
                owner) == 1;
    }

    /** Every stream of the migration, by partition. */
    public List<SyncStream> list(String migration) {
        return catalog.inTransaction("reading sync streams of " + migration, c -> list(c, migration));
    }

    public static List<SyncStream> list(Connection c, String migration) throws SQLException {
        return Sql.list(c, "SELECT " + COLUMNS + " FROM shapeshift.sync_stream WHERE migration = ? ORDER BY partition",
                rs -> {
                    long offset = rs.getLong(6);
                    Long appliedOffset = rs.wasNull() ? null : offset;
                    long stop = rs.getLong(10);
                    Long stopOffset = rs.wasNull() ? null : stop;
                    return new SyncStream(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getInt(4),
                            StreamState.valueOf(rs.getString(5)), appliedOffset, rs.getString(7),
                            instant(rs.getTimestamp(8)), instant(rs.getTimestamp(9)), stopOffset, rs.getString(11),
                            instant(rs.getTimestamp(12)));
                }, migration);
    }

    /** {@code X/Y}, PostgreSQL's text form of an LSN. */
    public static String lsnText(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xffffffffL).toUpperCase();
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
