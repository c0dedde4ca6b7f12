package dev.shapeshift.refresh;

import dev.shapeshift.db.ServerVersion;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replication origin on a backfill session (PostgreSQL 16+), so that the bridge, streaming with
 * pgoutput's {@code origin = 'none'}, never decodes or sends the backfill's own row changes: in
 * place (and in table mode with a write switch) every row the backfill writes is in a captured
 * table and is an echo the bridge would otherwise decode only to drop.
 *
 * <p>The session keeps its echo mark too ({@link WorkerTransactions#ECHO_MESSAGE_PREFIX}): the
 * bridge decides on its own whether to stream with {@code origin = 'none'} (not when another
 * migration captures the same table, another replication origin exists, or on older servers), and
 * without it the mark is what drops the echo. So attaching can only ever save work, never lose a
 * change.
 *
 * <p>The sync's refresh sessions take one from the same pool ({@link #attachSync}): in place (and in
 * table mode with a write switch) their writes are echoes too, one refresh per application change.
 *
 * <p>An origin is active in one session at a time, so each backfill session takes the first free one
 * of a small fixed pool, {@value #PREFIX}0 to {@value #PREFIX}7, created on first use and reused
 * afterwards: their number stays bounded (each keeps a replication-state entry, limited by
 * {@code max_replication_slots}, until dropped). Sync sessions take only from the upper half of the
 * pool, from the top down ({@value #PREFIX}7 to {@value #PREFIX}4), so backfill sessions always
 * find at least half of it. Any
 * failure (no privilege: the origin functions are superuser-only unless granted; no free entry;
 * every pool origin in use) leaves the session without an origin and is logged once per process.
 */
public final class BackfillOrigin {
    private static final Logger log = LoggerFactory.getLogger(BackfillOrigin.class);
    /** Name prefix of the backfill sessions' replication origins; the bridge ignores origins with it. */
    public static final String PREFIX = "shapeshift_backfill_";
    /**
     * How many origins the pool holds: the most backfill sessions at once on one server that get one
     * (others keep the mark alone). Small on purpose: every origin once used keeps one of the server's
     * replication-state entries ({@code max_replication_slots} of them, default 10; a subscription on
     * this server needs one too) until it is dropped.
     */
    public static final int POOL = 8;
    /** First server version with pgoutput's {@code origin} option. */
    public static final int MIN_SERVER_VERSION = 160000;
    private static final AtomicBoolean refusedLogged = new AtomicBoolean();

    private BackfillOrigin() {
    }

    /**
     * Sets up one of the pool's origins on the session {@code c} (autocommit, no transaction open).
     * Returns its name, or null when the session goes on without one (the echo mark still works).
     */
    public static String attach(Connection c) {
        return attach(c, false);
    }

    /**
     * As {@link #attach(Connection)} for a sync session: one of the upper half of the pool, so sync
     * sessions never take the origins the backfill's sessions (the bulk of the echo) need.
     */
    public static String attachSync(Connection c) {
        return attach(c, true);
    }

    private static String attach(Connection c, boolean sync) {
        try {
            if (ServerVersion.of(c).number() < MIN_SERVER_VERSION) {
                return null; // pgoutput cannot filter by origin: the echo mark alone
            }
            for (int n = 0; n < (sync ? POOL / 2 : POOL); n++) {
                String name = PREFIX + (sync ? POOL - 1 - n : n);
                if (tryAttach(c, name)) {
                    log.debug("{} session has replication origin {}", sync ? "sync" : "backfill", name);
                    return name;
                }
            }
            refused(sync ? "the " + POOL / 2 + " origins sync sessions may take are active in other sessions"
                    : "all " + POOL + " backfill origins are active in other sessions");
        } catch (SQLException e) {
            refused(e.getMessage() + " (sqlstate " + e.getSQLState() + ")");
        }
        return null;
    }

    /** False when another session has this origin active; other failures are thrown. */
    private static boolean tryAttach(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_replication_origin_create(?) "
                + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = ?)")) {
            ps.setString(1, name);
            ps.setString(2, name);
            ps.execute();
        } catch (SQLException e) {
            if (!"23505".equals(e.getSQLState())) {
                throw e; // 23505: another session created it just now
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_replication_origin_session_setup(?)")) {
            ps.setString(1, name);
            ps.execute();
            return true;
        } catch (SQLException e) {
            if ("55006".equals(e.getSQLState())) {
                return false; // object_in_use: active for another session
            }
            throw e;
        }
    }

    /**
     * The logical slots of this database that are not a Shapeshift bridge's (the catalog's
     * {@code migration.slot_name}): another consumer of this database's changes, e.g. a subscriber
     * with {@code origin = none} of its own, which would miss rows written under an origin. While
     * there is one, backfill sessions stay without an origin. Null when it cannot be read.
     */
    public static String otherLogicalSlot(Connection c) {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT min(slot_name) FROM pg_replication_slots "
                + "WHERE slot_type = 'logical' AND database = current_database() AND slot_name NOT IN "
                + "(SELECT slot_name FROM shapeshift.migration WHERE slot_name IS NOT NULL)")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return "(unknown: " + e.getMessage() + ")";
        }
    }

    /** Ends the session's origin (the session stays usable); a failure is only logged. */
    public static void detach(Connection c) {
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_replication_origin_session_reset()");
        } catch (SQLException e) {
            log.debug("resetting the session's replication origin failed sqlstate={}", e.getSQLState());
        }
    }

    private static void refused(String why) {
        if (refusedLogged.compareAndSet(false, true)) {
            log.info("worker sessions (backfill, sync) run without a replication origin, so the bridge decodes their row "
                    + "changes and drops them by the echo mark (slower sync during an in-place backfill, nothing lost): {}. "
                    + "Grant EXECUTE on pg_replication_origin_create, pg_replication_origin_session_setup and "
                    + "pg_replication_origin_session_reset to the "
                    + "worker role (docs/sync.md, \"The backfill's own rows are not decoded at all\")", why);
        }
    }
}
