package dev.shapeshift.launcher.demo;

import dev.shapeshift.db.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application: a paced stream of single-row writes (and reads of the shape its read flag
 * names) on its own connection, from {@link #INSTANCES} instances that take turns, each running a
 * version of the code: {@link Version#V1} writes the old shape; {@link Version#V2}, the
 * version a write switch needs, writes both shapes until the write flag is on and then only the
 * new one (docs/flags.md). A rolling deploy moves the instances to V2 one at a time. It runs
 * with its own identity: role {@code demo_app} and {@code application_name demo-app}, opened with the JDBC driver as any
 * application would, not through Shapeshift's connection factory (which names every session
 * {@code shapeshift-*}). So the contract evidence shows the demo's own reads of the old shape as
 * someone else's, which they are. Failed application transactions are counted: the
 * migration must cause none.
 */
final class AppLoad implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AppLoad.class);

    /** WRITE: writes, and reads the shape the read-switch flag names; READ_ONLY: no more writes. */
    enum Mode { WRITE, READ_ONLY }

    /** The application's code: V1 writes the old shape; V2 honours the write flag (both shapes, then only the new). */
    enum Version { V1, V2 }

    /** What the application counts ({@link #count}). */
    enum Count {
        /** Statements that wrote. */
        WRITES,
        /** Statements that failed. */
        FAILURES,
        /** Writes of the moved data by a V1 instance (the old shape only). */
        OLD_SHAPE_ONLY_WRITES,
        /** Writes of the moved data by a V2 instance to both shapes. */
        BOTH_SHAPE_WRITES,
        /** Writes of the moved data by a V2 instance to the new shape only. */
        NEW_SHAPE_ONLY_WRITES,
        /** Reads of the new shape. */
        NEW_SHAPE_READS,
        /** Reads of the new shape that found nothing and read the old shape again (menu). */
        FALLBACK_READS
    }

    /** Instances of the application, taking turns at each write. */
    static final int INSTANCES = 2;

    private final Database db;
    private final Scenario scenario;
    private final long maxId;
    private final int opsPerSecond;
    private final Thread thread;
    private final Tally<Count> counts = new Tally<>(Count.class);
    private volatile Mode mode = Mode.WRITE;
    private volatile java.util.function.BooleanSupplier readNew = () -> false;
    private volatile java.util.function.BooleanSupplier writeNew = () -> false;
    private final Version[] versions = {Version.V1, Version.V1};
    /** Keys whose moved data a V1 instance wrote (the only writer that can leave the new shape stale in dual writes). */
    private final java.util.Set<Long> v1Keys = java.util.concurrent.ConcurrentHashMap.newKeySet();
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

    /** How the V2 code decides to stop writing the old shape: the write flag through its client. */
    void writeSwitch(java.util.function.BooleanSupplier flag) {
        writeNew = flag;
    }

    /** Rolls one instance (0-based) to another version of the code. */
    void deploy(int instance, Version version) {
        synchronized (versions) {
            versions[instance] = version;
        }
        log.info("application instance={} version={}", instance + 1, version);
    }

    java.util.Set<Long> v1Keys() {
        return v1Keys;
    }

    long count(Count kind) {
        return counts.get(kind);
    }

    /** The application's own connection: its role, its application_name, the plain JDBC driver. */
    private Connection connectAsApplication() throws SQLException {
        return AppConnection.open(db, "demo-app");
    }

    /** The key a write names: the id parameter (the last one, or the first of an insert). */
    private static long writtenKey(Scenario.Write w) {
        Object id = w.sql().startsWith("INSERT") ? w.params()[0] : w.params()[w.params().length - 1];
        return (Long) id;
    }

    private void loop(Random r) {
        long turn = 0;
        long intervalNanos = 1_000_000_000L / opsPerSecond;
        long next = System.nanoTime();
        Connection c = null;
        while (!stop) {
            try {
                if (c == null) {
                    c = connectAsApplication();
                }
                if (mode == Mode.WRITE) {
                    Version v;
                    synchronized (versions) {
                        v = versions[(int) (turn++ % INSTANCES)];
                    }
                    Scenario.Shapes shapes = v == Version.V1 ? Scenario.Shapes.OLD
                            : writeNew.getAsBoolean() ? Scenario.Shapes.NEW : Scenario.Shapes.BOTH;
                    Scenario.Write w = scenario.randomWrite(r, maxId, shapes);
                    write(c, w);
                    if (Scenario.movesData(w)) {
                        switch (shapes) {
                            case OLD -> {
                                v1Keys.add(writtenKey(w));
                                counts.add(Count.OLD_SHAPE_ONLY_WRITES);
                            }
                            case BOTH -> counts.add(Count.BOTH_SHAPE_WRITES);
                            case NEW -> counts.add(Count.NEW_SHAPE_ONLY_WRITES);
                        }
                    }
                }
                read(c, readNew.getAsBoolean(), 3 * (1 + (long) (r.nextDouble() * maxId)));
            } catch (SQLException | RuntimeException e) {
                counts.add(Count.FAILURES);
                log.warn("application statement failed: {}", e.getMessage());
                AppConnection.closeQuietly(c);
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
        AppConnection.closeQuietly(c);
    }

    private void write(Connection c, Scenario.Write w) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(w.sql())) {
            for (int i = 0; i < w.params().length; i++) {
                ps.setObject(i + 1, w.params()[i]);
            }
            ps.executeUpdate();
            counts.add(Count.WRITES);
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
            counts.add(Count.NEW_SHAPE_READS);
            if (missing && scenario.fallsBackToOldShape()) {
                counts.add(Count.FALLBACK_READS);
                try (PreparedStatement ps = c.prepareStatement(scenario.oldShapeRead())) {
                    ps.setLong(1, id);
                    ps.executeQuery().close();
                }
            }
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
