package dev.shapeshift.worker.backfill;

import dev.shapeshift.db.Connections;
import dev.shapeshift.db.Database;
import dev.shapeshift.refresh.SessionOrigin;
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
    private Connection connection;
    /** The replication origin of {@link #connection}. */
    private final SessionOrigin origin;

    BackfillSession(Database db, ResolvedSpec resolved) {
        this.db = db;
        this.origin = new SessionOrigin(SessionOrigin.Role.BACKFILL, resolved.spec().name(),
                resolved.spec().mode() != Mode.SINK && WorkerTransactions.echoMark(resolved) != null);
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
        origin.check(c);
        return c;
    }

    void close() {
        origin.closed();
        Connections.closeQuietly(connection, log, "worker connection");
        connection = null;
    }
}
