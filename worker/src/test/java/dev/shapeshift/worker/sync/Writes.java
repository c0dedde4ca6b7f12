package dev.shapeshift.worker.sync;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An application writing to {@code src_<migration>} (bigint key) on its own thread until closed:
 * updates, upserts, deletes and two-row transactions on keys 1..keys, ~one every {@code pauseMillis}.
 */
final class Writes implements AutoCloseable {
    private final Thread thread;
    private final AtomicLong transactions = new AtomicLong();
    private final AtomicLong rowChanges = new AtomicLong();
    private volatile boolean running = true;
    private volatile Throwable failure;

    Writes(SyncFixture f, SyncFixture.Migration m, int keys, long pauseMillis) {
        String t = m.source();
        thread = new Thread(() -> {
            try (Connection c = f.db.connect("app");
                 PreparedStatement update = c.prepareStatement("UPDATE " + t + " SET a = a + 1, b = ? WHERE id = ?");
                 PreparedStatement upsert = c.prepareStatement("INSERT INTO " + t + " (id, seq, a, b) VALUES (?, ?, ?, ?) "
                         + "ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, b = EXCLUDED.b");
                 PreparedStatement delete = c.prepareStatement("DELETE FROM " + t + " WHERE id = ?")) {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                while (running) {
                    long id = 1 + r.nextInt(keys);
                    int op = r.nextInt(10);
                    long n;
                    if (op < 5) {
                        update.setString(1, "u" + transactions.get());
                        update.setLong(2, id);
                        n = update.executeUpdate();
                    } else if (op < 8) {
                        n = upsert(upsert, id, r);
                    } else if (op < 9) {
                        delete.setLong(1, id);
                        n = delete.executeUpdate();
                    } else {
                        c.setAutoCommit(false);
                        n = upsert(upsert, id, r) + upsert(upsert, 1 + r.nextInt(keys), r);
                        c.commit();
                        c.setAutoCommit(true);
                    }
                    rowChanges.addAndGet(n);
                    transactions.incrementAndGet();
                    Thread.sleep(pauseMillis);
                }
            } catch (SQLException | InterruptedException | RuntimeException e) {
                failure = e;
            }
        }, "app-writes-" + m.name());
        thread.start();
    }

    private static long upsert(PreparedStatement ps, long id, ThreadLocalRandom r) throws SQLException {
        ps.setLong(1, id);
        ps.setInt(2, (int) id);
        ps.setInt(3, r.nextInt(1000));
        ps.setString(4, r.nextInt(10) == 0 ? null : "v" + r.nextInt(1000));
        return ps.executeUpdate();
    }

    long transactions() {
        return transactions.get();
    }

    long rowChanges() {
        return rowChanges.get();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(10_000);
        if (failure != null) {
            throw new IllegalStateException("application writes failed", failure);
        }
    }
}
