package dev.shapeshift.refresh;

import java.sql.Connection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replication origin of one worker session whose writes are echoes the bridge captures (a
 * backfill session, or the sync's refresh session), kept in step with the database
 * ({@link #check}): taken from {@link BackfillOrigin}'s pool while every logical slot of the
 * database is a Shapeshift bridge's, given back when another slot appears (its consumer, maybe
 * filtering by origin itself, must see the rows), and never tried again once refused (no privilege,
 * server before 16: the echo mark from then on). The session keeps its echo mark in every case.
 */
public final class SessionOrigin {
    private static final Logger log = LoggerFactory.getLogger(SessionOrigin.class);

    /** Whose session: decides which part of the pool it takes ({@link BackfillOrigin#attachSync}). */
    public enum Role {
        BACKFILL, SYNC
    }

    private final Role role;
    private final String migration;
    /** Whether this session tries a replication origin: its writes are echoes the bridge captures. */
    private boolean wanted;
    /** The origin of the session now; null: none. */
    private String origin;
    /** The other logical slot last logged as the reason for no origin (logged once per slot name). */
    private String blockedBy;

    /**
     * @param wanted whether the session's writes are echoes the bridge captures: not in sink mode,
     *               and only when {@link WorkerTransactions#echoMark} marks them
     */
    public SessionOrigin(Role role, String migration, boolean wanted) {
        this.role = role;
        this.migration = migration;
        this.wanted = wanted;
    }

    /**
     * Attaches or detaches the origin of {@code c} (autocommit, no transaction open) as the database
     * now says: one query for the other logical slots, and one more to attach.
     */
    public void check(Connection c) {
        if (!wanted) {
            return;
        }
        String other = BackfillOrigin.otherLogicalSlot(c);
        String who = role == Role.SYNC ? "sync" : "backfill";
        if (origin == null && other == null) {
            origin = role == Role.SYNC ? BackfillOrigin.attachSync(c) : BackfillOrigin.attach(c);
            wanted = origin != null; // refused (privilege, server version, pool in use): the echo mark from now on
        } else if (origin == null && !other.equals(blockedBy)) {
            blockedBy = other;
            log.info("{} session without a replication origin: logical slot {} is not a Shapeshift bridge's, "
                    + "its consumer must see the session's rows (the bridge drops them by the echo mark) migration={}",
                    who, other, migration);
        } else if (origin != null && other != null) {
            BackfillOrigin.detach(c);
            log.info("{} session leaves its replication origin: logical slot {} is not a Shapeshift bridge's "
                    + "migration={} origin={}", who, other, migration, origin);
            origin = null;
        }
    }

    /** The session was closed (its origin went with it); the next {@link #check} attaches again. */
    public void closed() {
        origin = null;
    }

    /** The session's origin now, or null. */
    public String origin() {
        return origin;
    }
}
