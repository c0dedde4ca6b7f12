package dev.shapeshift.launcher.demo;

import dev.shapeshift.db.Database;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The "nightly export": a job nobody migrated that keeps reading the old column after the write
 * switch, in batches in key order, as role {@code demo_export} ({@code application_name
 * nightly-export}), so the contract evidence names it as a reader of the old shape of its own.
 *
 * <p>Each value it reads is checked against the new shape of the same row, read in the same
 * statement: the old value must be {@code reverse(new, old)} (the scenario's hand-written
 * {@link Scenario#exportCorrect}). A row the application wrote in the new shape within the reverse
 * sync's lag can be read before the reverse sync reached it: such a row is read again every
 * {@link #RECHECK_EVERY_NANOS}; equal then, the read counts as lagging; still different
 * {@link #GIVE_UP_NANOS} after the first read, it is wrong. Stopping waits for the rows pending.
 */
final class NightlyExport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NightlyExport.class);
    private static final int BATCH = 500;
    private static final long PAUSE_MILLIS = 100;
    private static final long RECHECK_EVERY_NANOS = 1_000_000_000L;
    private static final long GIVE_UP_NANOS = 30_000_000_000L;

    private final Database db;
    private final Scenario scenario;
    private final Thread thread;
    private final Tally<Count> counts = new Tally<>(Count.class);
    private final List<long[]> pending = new ArrayList<>(); // {id, nanos first read, nanos last read}
    private volatile boolean stop;

    /** What the export counts ({@link #count}). */
    enum Count {
        /** Old-column values read. */
        READS,
        /** Reads equal to reverse(new) at once. */
        CORRECT,
        /** Reads that lagged the application's new-shape write and were equal to reverse(new) on the re-read. */
        LAGGED,
        /** Reads still different from reverse(new) 30 s after the first read (or left when the re-reads failed). */
        WRONG,
        /** Lagging reads whose row the application deleted before the re-read (nothing left to compare). */
        GONE,
        /** Statements that failed. */
        FAILURES
    }

    /** @param db the database (the export logs in as its own role, {@code demo_export}) */
    NightlyExport(Database db, Scenario scenario) {
        this.db = new Database(db.jdbcUrl(), "demo_export", "demo_export");
        this.scenario = scenario;
        this.thread = new Thread(this::loop, "demo-nightly-export");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    long count(Count kind) {
        return counts.get(kind);
    }

    private void loop() {
        long last = 0;
        Connection c = null;
        while (!stop) {
            try {
                if (c == null) {
                    c = AppConnection.open(db, "nightly-export");
                }
                last = batch(c, last);
                recheck(c);
                Thread.sleep(PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (SQLException | RuntimeException e) {
                counts.add(Count.FAILURES);
                log.warn("nightly export statement failed: {}", e.getMessage());
                AppConnection.closeQuietly(c);
                c = null;
            }
        }
        try {
            while (c != null && !pending.isEmpty()) {
                Thread.sleep(RECHECK_EVERY_NANOS / 1_000_000);
                recheck(c);
            }
        } catch (SQLException e) {
            log.warn("nightly export re-check failed: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        counts.add(Count.WRONG, pending.size());
        pending.clear();
        AppConnection.closeQuietly(c);
    }

    /** One batch after {@code last} in key order (from the start again at the end); returns the last id read. */
    private long batch(Connection c, long last) throws SQLException {
        long next = 0;
        try (PreparedStatement ps = c.prepareStatement(scenario.exportSql())) {
            ps.setLong(1, last);
            ps.setInt(2, BATCH);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    next = rs.getLong(1);
                    counts.add(Count.READS);
                    if (scenario.exportCorrect(rs.getObject(2), rs.getObject(3))) {
                        counts.add(Count.CORRECT);
                    } else {
                        long now = System.nanoTime();
                        pending.add(new long[] {next, now, now});
                    }
                }
            }
        }
        return next;
    }

    /** Reads again the rows that lagged, each at most every {@link #RECHECK_EVERY_NANOS}. */
    private void recheck(Connection c) throws SQLException {
        long now = System.nanoTime();
        List<long[]> due = pending.stream().filter(p -> now - p[2] >= RECHECK_EVERY_NANOS).toList();
        if (due.isEmpty()) {
            return;
        }
        java.util.Map<Long, Boolean> equal = new java.util.HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(scenario.exportRecheckSql())) {
            Array ids = c.createArrayOf("bigint", due.stream().map(p -> p[0]).toArray());
            ps.setArray(1, ids);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    equal.put(rs.getLong(1), scenario.exportCorrect(rs.getObject(2), rs.getObject(3)));
                }
            }
        }
        for (long[] p : due) {
            Boolean ok = equal.get(p[0]);
            if (ok == null) {
                counts.add(Count.GONE);
            } else if (ok) {
                counts.add(Count.LAGGED);
            } else if (now - p[1] >= GIVE_UP_NANOS) {
                counts.add(Count.WRONG);
            } else {
                p[2] = now;
                continue;
            }
            pending.remove(p);
        }
    }

    /** Stops the job ("the team moves the export to the new column"), after re-reading what lagged. */
    @Override
    public void close() {
        stop = true;
        try {
            thread.join(GIVE_UP_NANOS / 1_000_000 + 10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
