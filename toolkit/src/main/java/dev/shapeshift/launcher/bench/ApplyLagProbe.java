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
    /** The replica the poller's connection is to (the poller thread's own). */
    private Replica polled;

    /** Where the probe value arrives: a query returning the applied seq (e.g. {@code balance_cents / 100}). */
    record Replica(Database db, String sql) {
    }

    ApplyLagProbe(Database source, long startSeq, int periodMs, int pollMs) {
        this.source = source;
        this.seq.set(startSeq);
        this.writer = new Thread(() -> loop("write", periodMs, this::write), "bench-probe-writer");
        this.poller = new Thread(() -> loop("poll", pollMs, this::poll), "bench-probe-poller");
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

    /**
     * One probe thread: a round every {@code pauseMs} until closed, on a connection kept open
     * between rounds; a failed round is logged and its connection dropped (the next round opens one).
     */
    private void loop(String what, int pauseMs, Round round) {
        Held held = new Held();
        try {
            while (running) {
                try {
                    round.run(held);
                } catch (SQLException e) {
                    log.warn("probe {} failed error={}", what, e.toString());
                    held.drop();
                }
                Thread.sleep(pauseMs);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            held.drop();
        }
    }

    /** One round of a probe thread on its held connection. */
    private interface Round {
        void run(Held held) throws SQLException;
    }

    /** A probe thread's connection, opened on first use and again after {@link #drop()}. */
    private static final class Held {
        private Connection c;

        Connection to(Database db, String application) throws SQLException {
            if (c == null) {
                c = db.connect(application);
            }
            return c;
        }

        void drop() {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // closing after a failure
                }
            }
            c = null;
        }
    }

    private void write(Held held) throws SQLException {
        Connection c = held.to(source, "bench-probe");
        long s = seq.incrementAndGet();
        try (PreparedStatement ps = c.prepareStatement(writeSql)) {
            ps.setLong(1, s);
            ps.executeUpdate();
        }
        if (replica != null) {
            pending.put(s, System.nanoTime());
        }
    }

    private void poll(Held held) throws SQLException {
        Replica r = replica;
        if (r != polled) {
            held.drop();
            polled = r;
        }
        if (r == null || pending.isEmpty()) {
            return;
        }
        Connection c = held.to(r.db(), "bench-probe-poll");
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
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        writer.join(5000);
        poller.join(5000);
    }
}
