package dev.shapeshift.launcher.demo;

import dev.shapeshift.db.Database;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application: a paced stream of single-row writes to the old shape (and, after the read
 * switch, reads of the new shape) on its own connection, with its own identity: role
 * {@code demo_app} and {@code application_name demo-app}, opened with the JDBC driver as any
 * application would, not through Shapeshift's connection factory (which names every session
 * {@code shapeshift-*}). So the contract evidence shows the demo's own reads of the old shape as
 * someone else's, which they are. Failed application transactions are counted: the
 * migration must cause none.
 */
final class AppLoad implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AppLoad.class);

    /** WRITE: writes to the old shape, and reads the shape the read-switch flag names; READ_ONLY: no more writes. */
    enum Mode { WRITE, READ_ONLY }

    private final Database db;
    private final Scenario scenario;
    private final long maxId;
    private final int opsPerSecond;
    private final Thread thread;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile Mode mode = Mode.WRITE;
    private volatile java.util.function.BooleanSupplier readNew = () -> false;
    private final AtomicLong newShapeReads = new AtomicLong();
    private final AtomicLong fallbackReads = new AtomicLong();
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

    /** How the application decides which shape to read: the read-switch flag through its client. */
    void readSwitch(java.util.function.BooleanSupplier flag) {
        readNew = flag;
    }

    long newShapeReads() {
        return newShapeReads.get();
    }

    long writes() {
        return writes.get();
    }

    long failures() {
        return failures.get();
    }

    /** The application's own connection: its role, its application_name, the plain JDBC driver. */
    private Connection connectAsApplication() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", db.user());
        p.setProperty("password", db.password());
        p.setProperty("ApplicationName", "demo-app");
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection(db.jdbcUrl(), p);
    }

    private void loop(Random r) {
        long intervalNanos = 1_000_000_000L / opsPerSecond;
        long next = System.nanoTime();
        Connection c = null;
        while (!stop) {
            try {
                if (c == null) {
                    c = connectAsApplication();
                }
                if (mode == Mode.WRITE) {
                    write(c, scenario.randomWrite(r, maxId));
                }
                read(c, readNew.getAsBoolean(), 3 * (1 + (long) (r.nextDouble() * maxId)));
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

    /**
     * Reads one row in the shape the flag names. Where the scenario has a fallback (menu: read by
     * translate_key, fall back to the label when the key is missing), a NULL from the new shape is
     * read again from the old one; once the backfill is verified that never happens, so the old
     * shape goes quiet and the contract gate can open.
     */
    private void read(Connection c, boolean newShape, long id) throws SQLException {
        boolean missing;
        try (PreparedStatement ps = c.prepareStatement(newShape ? scenario.newShapeRead() : scenario.oldShapeRead())) {
            ps.setLong(1, id);
            try (var rs = ps.executeQuery()) {
                missing = rs.next() && rs.getObject(1) == null;
            }
        }
        if (newShape) {
            newShapeReads.incrementAndGet();
            if (missing && scenario.fallsBackToOldShape()) {
                fallbackReads.incrementAndGet();
                try (PreparedStatement ps = c.prepareStatement(scenario.oldShapeRead())) {
                    ps.setLong(1, id);
                    ps.executeQuery().close();
                }
            }
        }
    }

    long fallbackReads() {
        return fallbackReads.get();
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
