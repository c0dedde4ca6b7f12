package dev.shapeshift.worker.backfill;

import dev.shapeshift.db.Connections;
import dev.shapeshift.db.Database;
import dev.shapeshift.refresh.BackfillOrigin;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import java.sql.Connection;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backfill consumer's one database session ({@code shapeshift-worker}), opened when first needed,
 * with an {@code idle_in_transaction_session_timeout}, and with a replication origin when the
 * backfill's writes are echoes the bridge should drop (docs/sync.md, "Echo suppression"). Closed
 * after a failure and opened again for the next chunk.
 */
final class BackfillSession {
    private static final Logger log = LoggerFactory.getLogger(BackfillSession.class);

    /**
     * A worker frozen inside a sub-batch transaction (GC pause, SIGSTOP) would hold the fence (table
     * mode: every sync refresh of the migration waits) or its row locks (in place: the application
     * waits). The server ends such a session after this long idle in a transaction; the sub-batch
     * rolls back and is redone from the checkpoint. Sub-batches never idle inside a transaction.
     */
    static final Duration IDLE_IN_TRANSACTION = Duration.ofSeconds(5);

    private final Database db;
    private final String migration;
    private Connection connection;
    /** The replication origin of {@link #connection}; null: none. */
    private String origin;
    /** Whether this backfill's sessions try a replication origin: its writes are echoes the bridge captures. */
    private boolean originWanted;
    /** The other logical slot last logged as the reason for no origin (logged once per slot name). */
    private String originBlockedBy;

    BackfillSession(Database db, ResolvedSpec resolved) {
        this.db = db;
        this.migration = resolved.spec().name();
        this.originWanted = resolved.spec().mode() != Mode.SINK && WorkerTransactions.echoMark(resolved) != null;
    }

    private Connection connection() {
        if (connection == null) {
            connection = db.connect("worker", IDLE_IN_TRANSACTION);
        }
        return connection;
    }

    /**
     * The worker's connection with a replication origin when it may have one, checked at every chunk:
     * a logical slot that is not a Shapeshift bridge's (another consumer, maybe filtering by origin
     * itself) takes it away again, so that consumer sees the backfill's rows.
     */
    Connection withOrigin() {
        Connection c = connection();
        if (!originWanted) {
            return c;
        }
        String other = BackfillOrigin.otherLogicalSlot(c);
        if (origin == null && other == null) {
            origin = BackfillOrigin.attach(c);
            originWanted = origin != null; // refused (privilege, server version): the echo mark from now on
        } else if (origin == null && !other.equals(originBlockedBy)) {
            originBlockedBy = other;
            log.info("backfill session without a replication origin: logical slot {} is not a Shapeshift bridge's, "
                    + "its consumer must see the backfill's rows (the bridge drops them by the echo mark) migration={}",
                    other, migration);
        } else if (origin != null && other != null) {
            BackfillOrigin.detach(c);
            log.info("backfill session leaves its replication origin: logical slot {} is not a Shapeshift bridge's "
                    + "migration={} origin={}", other, migration, origin);
            origin = null;
        }
        return c;
    }

    void close() {
        origin = null;
        Connections.closeQuietly(connection, log, "worker connection");
        connection = null;
    }
}
