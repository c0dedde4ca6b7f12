package dev.shapeshift.refresh;

import dev.shapeshift.db.SqlStates;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Tells whether the source transactions behind a batch of change events are visible to a new
 * snapshot yet. A sync refresh must not run before they are (docs/refresh.md, "Events that arrive
 * before their transaction is visible").
 *
 * <p>Why it is needed: logical decoding sends a transaction's changes once its commit record is
 * flushed, and the committing backend becomes visible to other snapshots only later, when it
 * leaves the proc array. The gap is microseconds normally, and as long as the synchronous
 * replication wait when {@code synchronous_standby_names} is set. A refresh that runs in the gap
 * reads the previous row version: in place, that version already satisfies {@code new =
 * transform(old)}, so the UPDATE filters the row out without locking it and returns success; in
 * table mode an inserted row is not seen at all and a deleted row still is. The offset is then
 * committed past a change that was never applied.
 *
 * <p>How: the events carry the 32-bit transaction id pgoutput gives. One statement takes a
 * snapshot, widens each id to the full 64-bit {@code xid8} relative to the snapshot's
 * {@code xmax} (a running or just-committed transaction is always within 2^31 of it), and returns
 * the ids the snapshot does not see. When it returns none, every later statement's snapshot sees
 * them too: a transaction leaves the proc array once. Cost: one round trip per sync batch, no
 * writes, no locks. Needs PostgreSQL 13+ ({@code pg_current_snapshot}).
 */
public final class VisibilityBarrier {
    /**
     * {@code full = xmax + signed32(x - low32(xmax))}: the only 64-bit id with those low 32 bits
     * within 2^31 of the snapshot's xmax.
     */
    static final String INVISIBLE = "SELECT x FROM (SELECT pg_current_snapshot() AS s) snap, "
            + "LATERAL (SELECT pg_snapshot_xmax(snap.s)::text::bigint AS xmax) m, unnest(?::bigint[]) AS x "
            + "WHERE NOT pg_visible_in_snapshot((m.xmax + ((x - (m.xmax & 4294967295) + 6442450944) % 4294967296) "
            + "- 2147483648)::text::xid8, snap.s)";

    private VisibilityBarrier() {
    }

    /**
     * The ids among {@code txIds} (32-bit transaction ids as the change events carry them; 0 =
     * unknown, ignored) that a snapshot taken now does not see. Empty means a refresh may run.
     * Ends the read-only transaction it opened when the connection is not in autocommit, so a
     * caller that waits between calls holds no snapshot and no transaction.
     */
    public static List<Long> invisible(Connection c, Collection<Long> txIds) {
        Long[] ids = txIds.stream().filter(x -> x != null && x != 0).distinct().toArray(Long[]::new);
        if (ids.length == 0) {
            return List.of();
        }
        try {
            List<Long> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(INVISIBLE)) {
                Array array = c.createArrayOf("bigint", ids);
                ps.setArray(1, array);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getLong(1));
                    }
                }
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
            return out;
        } catch (SQLException e) {
            try {
                if (!c.getAutoCommit()) {
                    c.rollback();
                }
            } catch (SQLException ignored) {
                // the connection is broken; the caller's error handling reopens it
            }
            throw SqlStates.translate("checking that the batch's source transactions are visible", e);
        }
    }
}
