package dev.shapeshift.bridge;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;

/** Inserts keys 1, 2, 3, ... one small transaction each, until stopped; counts what committed. */
final class Burst implements AutoCloseable {
    private final Thread thread;
    private final AtomicInteger committed = new AtomicInteger();
    private volatile boolean running = true;

    Burst(BridgeFixture f, String table, long pauseMillis) {
        thread = new Thread(() -> {
            try (Connection c = f.db.connect("test");
                 PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (id, a) VALUES (?, 'v')")) {
                while (running) {
                    ps.setLong(1, committed.get() + 1);
                    ps.executeUpdate();
                    committed.incrementAndGet();
                    Thread.sleep(pauseMillis);
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, "burst");
        thread.start();
    }

    int committed() {
        return committed.get();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join();
    }
}
