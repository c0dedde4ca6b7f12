package dev.shapeshift.coordinator.contract;

import dev.shapeshift.db.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import dev.shapeshift.coordinator.contract.AccessReport.TableCounters;


/**
 * The access watch's catalog tables: {@code shapeshift.contract_watch} (one row a migration: the
 * baseline, the quiet period's start, {@code pg_stat_statements}' reset and eviction marks, the old
 * table's write counter) and {@code shapeshift.contract_statement} (each statement that touches the
 * old shape, with its calls at the baseline and at the last look).
 */
final class WatchStore {
    private WatchStore() {}

    record Watch(Instant baselineAt, Instant quietSince, Instant statsReset, long dealloc, Long tableWrites,
                         Instant writesSeenAt) {
    }

    static Watch read(Connection c, String migration) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT baseline_at, quiet_since, stats_reset, dealloc, "
                + "table_writes, writes_seen_at FROM shapeshift.contract_watch WHERE migration = ? FOR UPDATE")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long tw = rs.getLong(5);
                Long tableWrites = rs.wasNull() ? null : tw; // right after its own column: NULL is "not taken", not 0
                return new Watch(instant(rs.getTimestamp(1)), instant(rs.getTimestamp(2)), instant(rs.getTimestamp(3)),
                        rs.getLong(4), tableWrites, instant(rs.getTimestamp(6)));
            }
        }
    }

    static void upsert(Connection c, String migration, Instant baselineAt, Instant now, Instant quietSince,
                                    Instant statsReset, long dealloc, long deallocNow, TableCounters table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.contract_watch (migration, baseline_at, "
                + "evaluated_at, quiet_since, stats_reset, dealloc, dealloc_now, table_writes, table_reads, writes_seen_at) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (migration) DO UPDATE SET evaluated_at = EXCLUDED.evaluated_at, "
                + "quiet_since = EXCLUDED.quiet_since, stats_reset = EXCLUDED.stats_reset, dealloc_now = EXCLUDED.dealloc_now, "
                + "table_writes = EXCLUDED.table_writes, table_reads = EXCLUDED.table_reads, writes_seen_at = EXCLUDED.writes_seen_at")) {
            ps.setString(1, migration);
            ps.setTimestamp(2, Timestamp.from(baselineAt));
            ps.setTimestamp(3, Timestamp.from(now));
            ps.setTimestamp(4, Timestamp.from(quietSince));
            ps.setTimestamp(5, statsReset == null ? null : Timestamp.from(statsReset));
            ps.setLong(6, dealloc);
            ps.setLong(7, deallocNow);
            ps.setObject(8, table == null ? null : table.writes());
            ps.setObject(9, table == null ? null : table.reads());
            ps.setTimestamp(10, table == null || table.writesSeenAt() == null ? null : Timestamp.from(table.writesSeenAt()));
            ps.executeUpdate();
        }
    }

    record Row(long userid, long queryid, String role, String query, long calls, long callsAtBaseline,
                       Instant firstSeen, Instant lastSeen, String why) {
        Row withWhy(String w) {
            return new Row(userid, queryid, role, query, calls, callsAtBaseline, firstSeen, lastSeen, w);
        }
    }

    static Map<String, Row> statements(Connection c, String migration) throws SQLException {
        Map<String, Row> out = new HashMap<>();
        Sql.each(c, "SELECT userid, queryid, role_name, query, calls, calls_at_baseline, "
                + "first_seen, last_seen FROM shapeshift.contract_statement WHERE migration = ?", rs -> {
                Row r = new Row(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4), rs.getLong(5),
                        rs.getLong(6), instant(rs.getTimestamp(7)), instant(rs.getTimestamp(8)), null);
                out.put(r.userid + "/" + r.queryid, r);
            }, migration);
        return out;
    }

    static void saveStatement(Connection c, String migration, Row r) throws SQLException {
        Sql.update(c, "INSERT INTO shapeshift.contract_statement (migration, userid, "
                + "queryid, role_name, query, calls, calls_at_baseline, first_seen, last_seen) "
                + "VALUES (?, ?::oid, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (migration, userid, queryid) DO UPDATE SET "
                + "calls = EXCLUDED.calls, calls_at_baseline = EXCLUDED.calls_at_baseline, last_seen = EXCLUDED.last_seen, "
                + "query = EXCLUDED.query, role_name = EXCLUDED.role_name",
                migration, Long.toString(r.userid), r.queryid, r.role, r.query, r.calls, r.callsAtBaseline, r.firstSeen,
                Sql.timestamp(r.lastSeen));
    }

    /** The old table's write and read counters now; writes seen now when they moved since the previous look. */
    static TableCounters tableCounters(Connection c, OldShape shape, WatchStore.Watch w, boolean first, Instant now)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT n_tup_ins + n_tup_upd + n_tup_del, "
                + "coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE schemaname = ? AND relname = ?")) {
            ps.setString(1, shape.schema());
            ps.setString(2, shape.table());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long writes = rs.getLong(1);
                Instant seen = first || w.tableWrites() == null ? null
                        : writes != w.tableWrites() ? now : w.writesSeenAt();
                return new TableCounters(writes, rs.getLong(2), seen);
            }
        }
    }

    static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
