package dev.shapeshift.db;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code pg_stat_statements} query ids of the statements one component runs, learned when it
 * prepares each statement text for the first time, so the contract's access watch can tell
 * Shapeshift's own statements from an application's even when both run under one role.
 *
 * <p>PostgreSQL 14 and later compute a query id from the parsed statement ({@code compute_query_id},
 * on whenever {@code pg_stat_statements} is loaded) and show it in three places: {@code
 * pg_stat_statements.queryid}, {@code pg_stat_activity.query_id}, and {@code EXPLAIN (VERBOSE)}'s
 * "Query Identifier". So the first time a text is prepared here, it is explained with the same
 * parameters bound the same way (the id depends on the parameters' types, not their values): that
 * id is the one {@code pg_stat_statements} counts the statement under. Without it the watch knew
 * its own statements only from sampling {@code pg_stat_activity} at the moment they ran, and a
 * sample that never fell inside a short reconcile pass left them counted as foreign access for good.
 *
 * <p>The {@code EXPLAIN} only plans (no {@code ANALYZE}): it reads no rows and takes no locks beyond
 * the planner's. When no id is computed ({@code compute_query_id} off, PostgreSQL 13) nothing is
 * learned and later texts are not explained. A failing {@code EXPLAIN} never fails the statement:
 * it runs in a savepoint inside a transaction; the statement then fails the same way, for its
 * caller to report.
 */
public final class QueryIds {
    private static final Logger log = LoggerFactory.getLogger(QueryIds.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Binds a statement's parameters; called once for the {@code EXPLAIN} and once for the statement. */
    @FunctionalInterface
    public interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private final Set<String> explained = ConcurrentHashMap.newKeySet();
    private final Set<Long> ids = ConcurrentHashMap.newKeySet();
    private volatile boolean unavailable;

    /**
     * {@code sql} prepared on {@code c} with {@code binder}'s parameters bound; its query id is
     * learned first when this text was not prepared here before.
     */
    public PreparedStatement prepare(Connection c, String sql, Binder binder) throws SQLException {
        if (!unavailable && explained.add(sql)) {
            Learned learned = learn(c, sql, binder);
            if (learned.id() != null) {
                ids.add(learned.id());
            } else if (!learned.failed()) {
                unavailable = true;
            }
        }
        PreparedStatement ps = c.prepareStatement(sql);
        try {
            binder.bind(ps);
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    /** The query ids learned so far. */
    public Set<Long> ids() {
        return Set.copyOf(ids);
    }

    /** A learned id (null: none), or that the explain failed. */
    private record Learned(Long id, boolean failed) {
    }

    private static Learned learn(Connection c, String sql, Binder binder) {
        try {
            Optional<Long> id = Transactions.contained(c, conn -> {
                try (PreparedStatement ps = conn.prepareStatement("EXPLAIN (VERBOSE, FORMAT JSON) " + sql)) {
                    binder.bind(ps);
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next() ? queryId(rs.getString(1)) : Optional.<Long>empty();
                    }
                }
            });
            return new Learned(id.orElse(null), false);
        } catch (SQLException e) {
            // The statement itself, parsed and planned the same way, fails the same way right after and
            // its caller reports that: a warning here only doubled it (a column dropped by the contract).
            log.debug("could not learn a statement's query id error={}", e.getMessage());
            return new Learned(null, true);
        }
    }

    /** The "Query Identifier" of an {@code EXPLAIN (VERBOSE, FORMAT JSON)} result, if it has one. */
    static Optional<Long> queryId(String explainJson) {
        try {
            JsonNode id = JSON.readTree(explainJson).path(0).path("Query Identifier");
            return id.isIntegralNumber() ? Optional.of(id.asLong()) : Optional.empty();
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
    }
}
