package dev.shapeshift.launcher.bench;

import dev.shapeshift.spec.Mode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * The backfills a team would run without Shapeshift, timed in the same run as the bulk baseline
 * (issue 18, "peer comparison"), each on one connection, one transaction per batch, until no row is left:
 *
 * <ul>
 *   <li><b>pgroll-style</b>: the statement pgroll's backfill repeats,
 *       {@code UPDATE t SET … WHERE id IN (SELECT id FROM t WHERE id > $last ORDER BY id LIMIT 1000)}
 *       (pgroll's "not yet done" is its key cursor); in table mode the same keys feed
 *       {@code INSERT INTO tgt SELECT … FROM src WHERE id IN (SELECT … LIMIT 1000)};</li>
 *   <li><b>naive keyset</b>: the loop written by hand, {@code WHERE id > $last ORDER BY id LIMIT n}
 *       ({@code INSERT … SELECT … ORDER BY id LIMIT n}; in place the upper key of the next n, then
 *       {@code UPDATE … WHERE id > $last AND id <= $upper}), commit each.</li>
 * </ul>
 *
 * Both carry the last key from the statement ({@code max(id)} of the rows written). Nothing here
 * throttles, checkpoints or survives a crash: they are the floor of work, not a design to copy.
 */
final class PeerRuns {
    /** pgroll's default batch size. */
    static final int PGROLL_BATCH = 1000;

    private PeerRuns() {
    }

    static List<Measurement> run(Connection c, BenchOptions o, ServerCpu cpu) throws SQLException {
        return List.of(
                BulkRun.timed(c, o, cpu, "pgroll-style IN (SELECT … LIMIT " + PGROLL_BATCH + ")",
                        (conn, l) -> loop(conn, l, pgroll(o.mode()), PGROLL_BATCH)),
                BulkRun.timed(c, o, cpu, "naive keyset loop LIMIT " + o.naiveBatchRows(),
                        (conn, l) -> loop(conn, l, naive(o.mode()), o.naiveBatchRows())));
    }

    /** One batch's statement: parameters (last key, batch rows), result (max key written, rows written). */
    static String pgroll(Mode mode) {
        String keys = "SELECT id FROM " + BenchTables.SOURCE + " WHERE id > ? ORDER BY id LIMIT ?";
        String write = mode == Mode.TABLE
                ? "INSERT INTO " + BenchTables.TARGET + " (id, doubled, label) SELECT id, a * 2, upper(b) FROM "
                + BenchTables.SOURCE + " WHERE id IN (" + keys + ") RETURNING id"
                : "UPDATE " + BenchTables.SOURCE + " SET doubled = a * 2, label = upper(b) WHERE id IN (" + keys
                + ") RETURNING id";
        return "WITH w AS (" + write + ") SELECT max(id), count(*) FROM w";
    }

    static String naive(Mode mode) {
        if (mode == Mode.TABLE) {
            return "WITH w AS (INSERT INTO " + BenchTables.TARGET + " (id, doubled, label) SELECT id, a * 2, upper(b) FROM "
                    + BenchTables.SOURCE + " WHERE id > ? ORDER BY id LIMIT ? RETURNING id) SELECT max(id), count(*) FROM w";
        }
        // The loop a team writes for an UPDATE (which has no LIMIT): the next n keys' upper bound, then the range.
        return "WITH upper_key AS (SELECT max(id) AS hi FROM (SELECT id FROM " + BenchTables.SOURCE
                + " WHERE id > ? ORDER BY id LIMIT ?) k), "
                + "w AS (UPDATE " + BenchTables.SOURCE + " SET doubled = a * 2, label = upper(b) FROM upper_key "
                + "WHERE id > ? AND id <= upper_key.hi RETURNING id) SELECT max(id), count(*) FROM w";
    }

    private static long loop(Connection c, Latencies l, String sql, int batch) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        long last = Long.MIN_VALUE;
        long rows = 0;
        // (last key, batch rows), and the last key again where the statement bounds the range twice
        boolean twice = sql.chars().filter(ch -> ch == '?').count() == 3;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            while (true) {
                long t = System.nanoTime();
                int i = 1;
                ps.setLong(i++, last);
                ps.setInt(i++, batch);
                if (twice) {
                    ps.setLong(i, last);
                }
                long n;
                long hi;
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    hi = rs.getLong(1);
                    n = rs.wasNull() ? 0 : rs.getLong(2);
                }
                c.commit();
                if (n == 0) {
                    return rows;
                }
                l.add(System.nanoTime() - t);
                rows += n;
                last = hi;
            }
        } finally {
            c.setAutoCommit(auto);
        }
    }
}
