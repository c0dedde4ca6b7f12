package dev.shapeshift.coordinator.writes;

import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.TargetColumn;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes of the old shape after the write switch, from pg_stat_statements: an INSERT or UPDATE on
 * the table that names an old column (one with a reverse transform, or one the contract drops) and
 * no new column, by a role other than the one Shapeshift connects as — an application instance
 * still running the old code. The reverse sync overwrites such a write with reverse(new); the
 * contract-ready gate stays closed while one keeps being called. The change stream cannot show
 * them: a row alone does not tell an old-shape write from a new-shape write not synced yet.
 */
public final class OldShapeWrites {
    private OldShapeWrites() {
    }

    /** One statement: who, what, and how many calls since the write switch. */
    public record Statement(String role, String query, long callsSinceSwitch) {
        @Override
        public String toString() {
            return role + ": " + query + " (" + callsSinceSwitch + " call(s) since the write switch)";
        }
    }

    /** At the write switch (in its transaction): stores the counts of the matching statements now. */
    static void snapshot(Connection c, String migration, MigrationSpec spec) throws SQLException {
        Map<String, Row> rows = matching(c, spec);
        if (rows == null) {
            return;
        }
        try (PreparedStatement del = c.prepareStatement("DELETE FROM shapeshift.old_shape_write WHERE migration = ?")) {
            del.setString(1, migration);
            del.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.old_shape_write (migration, queryid, "
                + "role, query, calls_at_switch) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            for (Row r : rows.values()) {
                ps.setString(1, migration);
                ps.setLong(2, r.queryid);
                ps.setString(3, r.role);
                ps.setString(4, r.query);
                ps.setLong(5, r.calls);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * The matching statements called since the write switch (more calls than at the switch, or not
     * there then); null when pg_stat_statements cannot be read.
     */
    public static List<Statement> since(Connection c, String migration, MigrationSpec spec) throws SQLException {
        Map<String, Row> now = matching(c, spec);
        if (now == null) {
            return null;
        }
        Map<String, Long> before = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT queryid, role, calls_at_switch FROM shapeshift.old_shape_write "
                + "WHERE migration = ?")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    before.put(rs.getLong(1) + "/" + rs.getString(2), rs.getLong(3));
                }
            }
        }
        List<Statement> out = new ArrayList<>();
        for (Map.Entry<String, Row> e : now.entrySet()) {
            long since = e.getValue().calls - before.getOrDefault(e.getKey(), 0L);
            if (since > 0) {
                out.add(new Statement(e.getValue().role, e.getValue().query, since));
            }
        }
        return out;
    }

    private record Row(long queryid, String role, String query, long calls) {
    }

    private static Map<String, Row> matching(Connection c, MigrationSpec spec) throws SQLException {
        Set<String> oldColumns = WriteSwitch.oldColumnsNewCodeStopsWriting(spec);
        if (oldColumns.isEmpty()) {
            return Map.of();
        }
        List<AppWrites.Statement> writes = AppWrites.on(c, spec.source().table());
        if (writes == null) {
            return null; // pg_stat_statements is not installed or not readable
        }
        List<String> news = spec.target().columns().stream().map(TargetColumn::name).toList();
        // Table mode: a statement that names the old table and an old column but not the new table
        // (new column names may repeat old ones there, so the table tells the shapes apart).
        boolean table = spec.mode() == Mode.TABLE;
        java.util.regex.Pattern newTable = AppWrites.word(spec.targetTable());
        Map<String, Row> out = new HashMap<>();
        for (AppWrites.Statement w : writes) {
            boolean oldOnly = table ? !newTable.matcher(w.query().toLowerCase(java.util.Locale.ROOT)).find()
                    : news.stream().noneMatch(w::names);
            if (oldColumns.stream().anyMatch(w::names) && oldOnly) {
                Row r = new Row(w.queryid(), w.role(), w.query(), w.calls());
                out.merge(r.queryid + "/" + r.role, r, (a, b) -> new Row(a.queryid, a.role, a.query, a.calls + b.calls));
            }
        }
        return out;
    }
}
