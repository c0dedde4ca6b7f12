package dev.shapeshift.launcher.bench;

import dev.shapeshift.spec.Mode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The baseline: one bulk statement over the whole fresh table, in one transaction. {@link #timed}
 * is the frame of every JDBC-only run of {@code bench backfill} (the baseline and the peer loops of
 * {@link PeerRuns}): a fresh table, then WAL, server and JVM CPU, sizes before, after and compact.
 */
final class BulkRun {
    private static final Logger log = LoggerFactory.getLogger(BulkRun.class);

    /** The timed part of a run: copies every row of the fresh table, records each transaction, returns the rows. */
    interface Body {
        long copy(Connection c, Latencies transactions) throws SQLException;
    }

    private BulkRun() {
    }

    static Measurement run(Connection c, BenchOptions o, ServerCpu cpu) throws SQLException {
        return timed(c, o, cpu, o.mode() == Mode.TABLE ? "bulk INSERT … SELECT" : "bulk UPDATE", (conn, l) -> {
            long t = System.nanoTime();
            try (Statement s = conn.createStatement()) {
                long rows = s.executeUpdate(BenchTables.bulkStatement(o.mode()));
                l.add(System.nanoTime() - t);
                return rows;
            }
        });
    }

    static Measurement timed(Connection c, BenchOptions o, ServerCpu cpu, String name, Body body) throws SQLException {
        BenchTables.fresh(c, o.rows(), o.mode());
        String table = BenchTables.written(o.mode());
        BenchTables.Sizes before = BenchTables.sizes(c, table);
        String lsn = BenchTables.walLsn(c);
        double db0 = cpu.serverSeconds();
        double jvm0 = ServerCpu.jvmSeconds();
        Latencies l = new Latencies();
        long t0 = System.nanoTime();
        long rows = body.copy(c, l);
        long nanos = System.nanoTime() - t0;
        double db = cpu.serverSeconds() - db0;
        double jvm = ServerCpu.jvmSeconds() - jvm0;
        long wal = BenchTables.walBytesSince(c, lsn);
        BenchTables.Sizes after = BenchTables.sizes(c, table);
        BenchTables.Sizes compact = BenchTables.compact(c, table);
        log.info("bench {} mode={} rows={} seconds={} wal_bytes={}", name, o.mode(), rows,
                String.format("%.2f", nanos / 1e9), wal);
        return new Measurement(name, 1, rows, nanos / 1e9, wal, before.heapBytes(), after.heapBytes(),
                before.indexBytes(), after.indexBytes(), l.count(), l.percentile(50), l.percentile(99), l.percentile(100),
                null, null, null, db, jvm, null, null, compact.heapBytes(), compact.indexBytes(), null);
    }
}
