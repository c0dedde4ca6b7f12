package dev.shapeshift.launcher.bench;

import dev.shapeshift.spec.Mode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The baseline: one bulk statement over the whole fresh table, in one transaction. */
final class BulkRun {
    private static final Logger log = LoggerFactory.getLogger(BulkRun.class);

    private BulkRun() {
    }

    static Measurement run(Connection c, BenchOptions o, ServerCpu cpu) throws SQLException {
        BenchTables.fresh(c, o.rows(), o.mode());
        String table = BenchTables.written(o.mode());
        BenchTables.Sizes before = BenchTables.sizes(c, table);
        String lsn = BenchTables.walLsn(c);
        double db0 = cpu.serverSeconds();
        double jvm0 = ServerCpu.jvmSeconds();
        long t0 = System.nanoTime();
        long rows;
        try (Statement s = c.createStatement()) {
            rows = s.executeUpdate(BenchTables.bulkStatement(o.mode()));
        }
        long nanos = System.nanoTime() - t0;
        double db = cpu.serverSeconds() - db0;
        double jvm = ServerCpu.jvmSeconds() - jvm0;
        long wal = BenchTables.walBytesSince(c, lsn);
        BenchTables.Sizes after = BenchTables.sizes(c, table);
        BenchTables.Sizes compact = BenchTables.compact(c, table);
        double ms = nanos / 1e6;
        log.info("bench bulk mode={} rows={} seconds={} wal_bytes={}", o.mode(), rows, String.format("%.2f", ms / 1000), wal);
        return new Measurement(o.mode() == Mode.TABLE ? "bulk INSERT … SELECT" : "bulk UPDATE", 1, rows, nanos / 1e9, wal,
                before.heapBytes(), after.heapBytes(), before.indexBytes(), after.indexBytes(), 1L, ms, ms, ms,
                null, null, null, db, jvm, null, null, compact.heapBytes(), compact.indexBytes(), null);
    }
}
