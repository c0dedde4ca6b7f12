package dev.shapeshift.catalog;

import dev.shapeshift.db.Transactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Declares to the contract's access watch the {@code pg_stat_statements} query ids of statements
 * Shapeshift ran itself on a migration's old shape ({@link dev.shapeshift.db.QueryIds} learns them:
 * the reconciler's range reads, the sync's and the reverse sync's refreshes), as rows of
 * {@code shapeshift.contract_sighting} seen in Shapeshift's sessions. The coordinator's
 * {@code Sightings} reads that table and records what its looks sample into it; this class only
 * adds declarations, which every role that runs those statements may do.
 *
 * <p>A declaration only says "ours": a query id also sampled in an application's session stays
 * the application's ({@code by_other} is never cleared), so the same statement run by the
 * application still counts against the quiet period.
 */
public final class OwnQueries {
    private static final Logger log = LoggerFactory.getLogger(OwnQueries.class);

    private final String migration;
    private final Set<Long> declared = ConcurrentHashMap.newKeySet();
    private volatile boolean failed;

    public OwnQueries(String migration) {
        this.migration = migration;
    }

    /**
     * Declares the ids of {@code ids} not declared before by this instance, in the caller's
     * transaction (under a savepoint there). A failure (a role without the right to write the
     * catalog table) is logged once and never fails the caller's work: the watch then falls back
     * on its samples.
     */
    public void declare(Connection c, Collection<Long> ids) {
        if (failed || declared.containsAll(ids)) {
            return;
        }
        Set<Long> fresh = new HashSet<>(ids);
        fresh.removeAll(declared);
        try {
            Transactions.contained(c, conn -> {
                insert(conn, migration, fresh);
                return null;
            });
            declared.addAll(fresh);
        } catch (SQLException e) {
            failed = true;
            log.warn("could not declare Shapeshift's own statements to the access watch migration={} error={}",
                    migration, e.getMessage());
        }
    }

    /** Inserts the declarations, in the caller's transaction. */
    static void insert(Connection c, String migration, Collection<Long> queryIds) throws SQLException {
        if (queryIds.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.contract_sighting "
                + "(migration, kind, id, by_shapeshift, by_other) SELECT ?, 'query', q, true, false FROM unnest(?::bigint[]) q "
                + "ON CONFLICT (migration, kind, id) DO UPDATE SET by_shapeshift = true")) {
            ps.setString(1, migration);
            ps.setArray(2, c.createArrayOf("bigint", queryIds.toArray()));
            ps.executeUpdate();
        }
    }
}
