package dev.shapeshift.launcher.demo;

import dev.shapeshift.db.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application: a paced stream of single-row writes to the old shape (and, after the read
 * switch, reads of the new shape) on its own connection, named {@code demo-app} so it is told
 * apart from Shapeshift's own sessions. Failed application transactions are counted: the
 * migration must cause none.
 */
final class AppLoad implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AppLoad.class);

    enum Mode { WRITE_OLD, READ_NEW, IDLE }

    private final Database db;
    private final Scenario scenario;
    private final long maxId;
    private final int opsPerSecond;
    private final Thread thread;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile Mode mode = Mode.WRITE_OLD;
    private volatile boolean stop;

    AppLoad(Database db, Scenario scenario, long maxId, int opsPerSecond, long seed) {
        this.db = db;
        this.scenario = scenario;
        this.maxId = maxId;
        this.opsPerSecond = opsPerSecond;
        this.thread = new Thread(() -> loop(new Random(seed)), "demo-app");
        this.thread.setDaemon(true);
    }

    void start() {
        if (opsPerSecond > 0) {
            thread.start();
        }
    }

    void mode(Mode m) {
        mode = m;
        log.info("application mode={}", m);
    }

    long writes() {
        return writes.get();
    }

    long reads() {
        return reads.get();
    }

    long failures() {
        return failures.get();
    }

    private void loop(Random r) {
        long intervalNanos = 1_000_000_000L / opsPerSecond;
        long next = System.nanoTime();
        Connection c = null;
        while (!stop) {
            try {
                if (c == null) {
                    c = db.connect("demo-app");
                }
                switch (mode) {
                    case WRITE_OLD -> write(c, scenario.randomWrite(r, maxId));
                    case READ_NEW -> read(c, 3 * (1 + (long) (r.nextDouble() * maxId)));
                    case IDLE -> { }
                }
            } catch (SQLException | RuntimeException e) {
                failures.incrementAndGet();
                log.warn("application statement failed: {}", e.getMessage());
                closeQuietly(c);
                c = null;
            }
            next += intervalNanos;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                sleepNanos(wait);
            } else if (wait < -1_000_000_000L) {
                next = System.nanoTime();
            }
        }
        closeQuietly(c);
    }

    private void write(Connection c, Scenario.Write w) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(w.sql())) {
            for (int i = 0; i < w.params().length; i++) {
                ps.setObject(i + 1, w.params()[i]);
            }
            ps.executeUpdate();
            writes.incrementAndGet();
        }
    }

    private void read(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(scenario.newShapeRead())) {
            ps.setLong(1, id);
            ps.executeQuery().close();
            reads.incrementAndGet();
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the connection is broken already
            }
        }
    }

    @Override
    public void close() {
        stop = true;
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
