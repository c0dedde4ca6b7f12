package dev.shapeshift.worker.backfill;

import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.Refresher;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.spec.Mode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An application write load (updates, deletes, inserts; autocommit) plus a stand-in for CDC sync:
 * every key written is queued and refreshed shortly after with {@link Refresher#refresh}.
 */
final class Workload implements AutoCloseable {
    private final BackfillFixture f;
    private final int existingRows;
    private final ConcurrentLinkedQueue<Key> changed = new ConcurrentLinkedQueue<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    final AtomicLong writes = new AtomicLong();
    final AtomicLong applicationFailures = new AtomicLong();
    private volatile boolean stopping;
    private final Thread app;
    private final Thread sync;

    Workload(BackfillFixture f, int existingRows) {
        this.f = f;
        this.existingRows = existingRows;
        this.app = new Thread(this::writeLoop, "app-load");
        this.sync = new Thread(this::syncLoop, "test-sync");
        app.start();
        sync.start();
    }

    private void writeLoop() {
        Random r = new Random(42);
        long nextNew = existingRows;
        try (Connection c = f.db.connect("app")) {
            while (!stopping) {
                int op = r.nextInt(10);
                Key k = f.key(r.nextInt(existingRows + 200));
                try {
                    if (op < 6) {
                        exec(c, "UPDATE src SET a = ?, b = ?", k, r.nextInt(1000), "u" + r.nextInt(1000));
                    } else if (op < 8) {
                        exec(c, "DELETE FROM src", k);
                    } else {
                        k = f.key(nextNew++);
                        insert(c, k, r.nextInt(1000));
                    }
                    changed.add(k);
                    writes.incrementAndGet();
                } catch (SQLException e) {
                    applicationFailures.incrementAndGet();
                }
                Thread.sleep(2);
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }

    private void exec(Connection c, String sqlBeforeWhere, Key k, Object... leading) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sqlBeforeWhere + " WHERE " + f.keyWhere())) {
            int p = 1;
            for (Object o : leading) {
                ps.setObject(p++, o);
            }
            f.bindKey(ps, p, k);
            ps.executeUpdate();
        }
    }

    private void insert(Connection c, Key k, int a) throws SQLException {
        String cols = String.join(", ", f.resolved.keyNames());
        String params = String.join(", ", f.kind.columns.stream().map(col -> "?::" + col.type()).toList());
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO src (" + cols + ", a, b) VALUES (" + params
                + ", ?, ?) ON CONFLICT DO NOTHING")) {
            int p = f.bindKey(ps, 1, k);
            ps.setInt(p++, a);
            ps.setString(p, "new");
            ps.executeUpdate();
        }
    }

    private void syncLoop() {
        Refresher refresher = new Refresher(f.resolved);
        WorkerTransactions tx = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);
        String echo = f.mode == Mode.IN_PLACE ? f.migration : null;
        try (Connection c = f.db.connect("sync")) {
            // Drain until the application thread has ended, not merely been told to stop: a write
            // committed just before it stopped is queued after its commit and must still be refreshed.
            while (app.isAlive() || !changed.isEmpty()) {
                Set<Key> batch = new LinkedHashSet<>();
                Key k;
                while (batch.size() < 500 && (k = changed.poll()) != null) {
                    batch.add(k);
                }
                if (batch.isEmpty()) {
                    Thread.sleep(20);
                    continue;
                }
                List<Key> keys = new ArrayList<>(batch);
                tx.run(c, echo, conn -> refresher.refresh(conn, keys));
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }

    /** Stops the writes, lets the sync catch up, and rethrows any failure of either thread. */
    @Override
    public void close() throws Exception {
        stopping = true;
        app.join(30_000);
        sync.join(60_000);
        if (failure.get() != null) {
            throw new AssertionError("workload failed", failure.get());
        }
    }
}
