package dev.shapeshift.scenarios;

import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.ModelDiff;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.fixtures.Queries;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.TargetColumn;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The independent check: the scenario's hand-written {@code expected.sql} (transform(source),
 * written by a person, not rendered by Shapeshift) against the target, row by row, as text; plus
 * every key the application deleted must be absent from the target. Shares no code with the
 * refresh, the reconciler or the spec's transforms.
 */
final class Checker {

    /** What one comparison found. */
    record Result(int expectedRows, int targetRows, int missing, int extra, int stale, int zombies, List<String> examples) {
        boolean clean() {
            return missing == 0 && extra == 0 && stale == 0 && zombies == 0;
        }

        int drift() {
            return missing + extra + stale + zombies;
        }

        @Override
        public String toString() {
            return String.format("expected=%d target=%d missing=%d extra=%d stale=%d zombies=%d%s", expectedRows,
                    targetRows, missing, extra, stale, zombies, examples.isEmpty() ? "" : " e.g. " + examples);
        }
    }

    private final Database db;
    private final String expectedSql;
    private final String targetSql;
    private final int keyWidth;
    private final List<String> keyColumns;

    Checker(Database db, Scenario scenario, MigrationSpec spec) {
        this.db = db;
        this.expectedSql = scenario.expectedSql();
        KeyKind kind = scenario.workload().keyKind();
        this.keyWidth = kind.names.size();
        this.keyColumns = kind.names;
        List<String> cols = new ArrayList<>(kind.names);
        spec.target().columns().stream().map(TargetColumn::name).forEach(cols::add);
        this.targetSql = "SELECT " + String.join(", ", cols) + " FROM " + spec.targetSchema() + "." + spec.targetTable();
    }

    /** Compares everything; {@code deleted} are key texts the application deleted. */
    Result check(Collection<List<String>> deleted) {
        try (Connection c = db.connect("checker"); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            Map<List<String>, List<String>> expected = rows(s, expectedSql);
            Map<List<String>, List<String>> target = rows(s, targetSql);
            c.commit();
            ModelDiff diff = ModelDiff.compare(expected, target);
            List<String> examples = new ArrayList<>(diff.examples());
            int zombies = ModelDiff.zombies(deleted, target, examples);
            return new Result(expected.size(), target.size(), diff.missing(), diff.extra(), diff.stale(), zombies, examples);
        } catch (SQLException e) {
            throw new IllegalStateException("independent check failed to run: " + e.getMessage(), e);
        }
    }

    /** True when, for every key, the target row equals expected.sql's row (both absent counts as equal). */
    boolean allMatch(List<List<String>> keys) {
        try (Connection c = db.connect("checker")) {
            for (List<String> key : keys) {
                if (!Objects.equals(one(c, expectedSql, key), one(c, targetSql, key))) {
                    return false;
                }
            }
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    /** Counts rows of an arbitrary query's first column (for scenario-specific assertions). */
    long count(String sql) {
        return Queries.count(db, "checker", sql);
    }

    /** The row of one key: both queries name the key columns like the source does (expected.sql's contract). */
    private List<String> one(Connection c, String sql, List<String> key) throws SQLException {
        StringBuilder where = new StringBuilder();
        for (int i = 0; i < keyWidth; i++) {
            where.append(i == 0 ? "" : " AND ").append("q.").append(keyColumns.get(i)).append("::text = ?");
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT * FROM (" + sql + ") q WHERE " + where)) {
            for (int i = 0; i < keyWidth; i++) {
                ps.setString(i + 1, key.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                List<String> all = values(rs);
                return all.subList(keyWidth, all.size());
            }
        }
    }

    private Map<List<String>, List<String>> rows(Statement s, String sql) throws SQLException {
        Map<List<String>, List<String>> out = new HashMap<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> all = values(rs);
                out.put(List.copyOf(all.subList(0, keyWidth)), new ArrayList<>(all.subList(keyWidth, n)));
            }
        }
        return out;
    }

    private static List<String> values(ResultSet rs) throws SQLException {
        int n = rs.getMetaData().getColumnCount();
        List<String> v = new ArrayList<>(n);
        for (int i = 1; i <= n; i++) {
            v.add(rs.getString(i));
        }
        return v;
    }
}
