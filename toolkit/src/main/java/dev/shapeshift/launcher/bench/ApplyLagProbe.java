package dev.shapeshift.launcher.bench;

import dev.shapeshift.db.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commit → applied lag measured the same way for every replication method: every {@code periodMs}
 * a writer sets {@code abalance = seq} of a probe row ({@code aid = 0}, a key pgbench never draws)
 * on the source in its own autocommit transaction and notes when the commit returned; a poller
 * reads the probe row on the replica every {@code pollMs} and, when it shows {@code seq} (or a
 * later one), records now − commit for every probe up to it. Both clocks are this JVM's
 * {@code System.nanoTime()}; the resolution is the poll interval plus one poll query.
 */
final class ApplyLagProbe implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApplyLagProbe.class);

    private final Database source;
    private final int periodMs;
    private final int pollMs;
    private final AtomicLong seq = new AtomicLong();
    /** seq → commit-returned nanos, for probes not yet seen on the replica. */
    private final ConcurrentSkipListMap<Long, Long> pending = new ConcurrentSkipListMap<>();
    private volatile Latencies lags = new Latencies();
    private volatile Replica replica;
    /** The probe's write: sets the probe row's value to the bound seq (default the old column, {@code abalance}). */
    private volatile String writeSql = "UPDATE pgbench_accounts SET abalance = ? WHERE aid = 0";
    private volatile boolean running = true;
    private final Thread writer;
    private final Thread poller;

    /** Where the probe value arrives: a query returning the applied seq (e.g. {@code balance_cents / 100}). */
    record Replica(Database db, String sql) {
    }

    ApplyLagProbe(Database source, long startSeq, int periodMs, int pollMs) {
        this.source = source;
        this.seq.set(startSeq);
        this.periodMs = periodMs;
        this.pollMs = pollMs;
        this.writer = new Thread(this::write, "bench-probe-writer");
        this.poller = new Thread(this::poll, "bench-probe-poller");
        writer.setDaemon(true);
        poller.setDaemon(true);
        writer.start();
        poller.start();
    }

    /** What the probe writes from now on (e.g. the new column, to measure the reverse sync). */
    void writeWith(String sql) {
        this.writeSql = sql;
    }

    /** Starts measuring against a replica (null: write only, as the same load in runs without replication). */
    void replica(Replica r) {
        pending.clear();
        this.replica = r;
    }

    /** The lags recorded since the last call; probes still pending are counted as not arrived. */
    Snapshot take() {
        Latencies l = lags;
        lags = new Latencies();
        long waiting = replica == null ? 0 : pending.size();
        return new Snapshot(l, waiting);
    }

    record Snapshot(Latencies lags, long notArrived) {
    }

    /** Waits until every probe written so far arrived (the replica caught up), or the timeout. */
    boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        long last = seq.get();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Long first = pending.isEmpty() ? null : pending.firstKey();
            if (first == null || first > last) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    private void write() {
        Connection c = null;
        try {
            while (running) {
                try {
                    if (c == null) {
                        c = source.connect("bench-probe");
                    }
                    long s = seq.incrementAndGet();
                    try (PreparedStatement ps = c.prepareStatement(writeSql)) {
                        ps.setLong(1, s);
                        ps.executeUpdate();
                    }
                    if (replica != null) {
                        pending.put(s, System.nanoTime());
                    }
                } catch (SQLException e) {
                    log.warn("probe write failed error={}", e.toString());
                    close(c);
                    c = null;
                }
                Thread.sleep(periodMs);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close(c);
        }
    }

    private void poll() {
        Connection c = null;
        Replica current = null;
        try {
            while (running) {
                Replica r = replica;
                if (r != current) {
                    close(c);
                    c = null;
                    current = r;
                }
                if (r != null && !pending.isEmpty()) {
                    try {
                        if (c == null) {
                            c = r.db().connect("bench-probe-poll");
                        }
                        long applied;
                        try (PreparedStatement ps = c.prepareStatement(r.sql()); ResultSet rs = ps.executeQuery()) {
                            applied = rs.next() ? rs.getLong(1) : -1;
                        }
                        long now = System.nanoTime();
                        Map<Long, Long> arrived = pending.headMap(applied, true);
                        for (Map.Entry<Long, Long> e : arrived.entrySet()) {
                            lags.add(now - e.getValue());
                        }
                        arrived.clear();
                    } catch (SQLException e) {
                        log.warn("probe poll failed error={}", e.toString());
                        close(c);
                        c = null;
                    }
                }
                Thread.sleep(pollMs);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close(c);
        }
    }

    private static void close(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing after a failure
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        writer.join(5000);
        poller.join(5000);
    }
}
