package dev.shapeshift.refresh;

import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.ModelDiff;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.fixtures.KeyParams;
import dev.shapeshift.fixtures.RowCheck;
import dev.shapeshift.fixtures.ShapeRows;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecBuilder;
import dev.shapeshift.spec.TargetColumn;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A source table {@code src(<key>, a int, b text, big text)} and the new shape
 * {@code doubled = a * 2}, {@code label = NULL when a % 5 = 0 else upper(b)},
 * {@code digest = md5(big)} — in a new table {@code tgt} or in place. {@code big} is several kB of
 * incompressible text, so it is TOASTed, and workloads leave it unchanged in most updates.
 *
 * <p>{@link #check} is the independent model: it computes transform(source) in Java, not with the
 * SQL under test, and compares row by row.
 */
final class RefreshFixture {

    record Row(int a, String b, String big) {
    }

    final Database db;
    final KeyKind kind;
    final Mode mode;
    final ResolvedSpec resolved;

    RefreshFixture(Database db, KeyKind kind, Mode mode) {
        this.db = db;
        this.kind = kind;
        this.mode = mode;
        List<TargetColumn> columns = List.of(
                new TargetColumn("doubled", "integer", "a * 2"),
                new TargetColumn("label", "text", "CASE WHEN a % 5 = 0 THEN NULL ELSE upper(b) END"),
                new TargetColumn("digest", "text", "md5(big)"));
        List<String> keyNames = kind.columns.stream().map(Column::name).toList();
        MigrationSpec spec = SpecBuilder.spec("refresh-test").source("public", "src", keyNames).mode(mode)
                .target("public", mode == Mode.TABLE ? "tgt" : "src", columns).build();
        List<Column> sourceColumns = new ArrayList<>(kind.columns);
        sourceColumns.addAll(List.of(new Column("a", "integer"), new Column("b", "text"), new Column("big", "text")));
        this.resolved = new ResolvedSpec(spec, kind.columns, sourceColumns);
    }

    void createTables() throws SQLException {
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE src (" + kind.ddl + ", a integer NOT NULL, b text, big text)");
            if (mode == Mode.TABLE) {
                String keyCols = String.join(", ", kind.columns.stream().map(k -> k.name() + " " + k.type()).toList());
                String pk = String.join(", ", kind.columns.stream().map(Column::name).toList());
                s.execute("CREATE TABLE tgt (" + keyCols + ", doubled integer, label text, digest text, PRIMARY KEY (" + pk + "))");
            } else {
                s.execute("ALTER TABLE src ADD COLUMN doubled integer, ADD COLUMN label text, ADD COLUMN digest text");
            }
        }
    }

    /** Key order as PostgreSQL sorts these keys: numbers numerically, text and uuid by their text (C collation). */
    int compareKeys(Key a, Key b) {
        for (int i = 0; i < a.size(); i++) {
            String type = kind.columns.get(i).type();
            int c = type.equals("text") || type.equals("uuid") ? a.get(i).compareTo(b.get(i))
                    : Long.compare(Long.parseLong(a.get(i)), Long.parseLong(b.get(i)));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    /** The source's keys in the database's own key order (the order chunk ranges follow). */
    List<Key> sortedSourceKeys(Connection c) throws SQLException {
        KeySql keys = new KeySql(kind.columns);
        String asText = String.join(", ", kind.columns.stream().map(k -> k.name() + "::text").toList());
        List<Key> out = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + asText + " FROM src ORDER BY " + keys.tuple("src"))) {
            while (rs.next()) {
                String[] v = new String[kind.columns.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = rs.getString(i + 1);
                }
                out.add(Key.of(v));
            }
        }
        return out;
    }

    /** Rows of the new shape in a key range: target rows (table mode) or rows with the new columns set (in place). */
    long targetRows(Connection c, KeyRange range) throws SQLException {
        KeySql keys = new KeySql(kind.columns);
        String table = mode == Mode.TABLE ? "tgt" : "src";
        String where = keys.rangeWhere(table, range.after() != null, range.upTo() != null)
                + (mode == Mode.TABLE ? "" : " AND doubled IS NOT NULL");
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + table + " WHERE " + where)) {
            int p = 1;
            for (Key bound : java.util.Arrays.asList(range.after(), range.upTo())) {
                if (bound != null) {
                    p = bindKey(ps, p, bound);
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static Row randomRow(Random r) {
        return new Row(r.nextInt(1000), r.nextInt(10) == 0 ? null : "b" + r.nextInt(100_000), bigText(r));
    }

    /** 2.5–4.5 kB of hex: incompressible enough to be stored out of line (TOAST). */
    static String bigText(Random r) {
        StringBuilder sb = new StringBuilder();
        int len = 2500 + r.nextInt(2000);
        while (sb.length() < len) {
            sb.append(Long.toHexString(r.nextLong()));
        }
        return sb.toString();
    }

    void insert(Connection c, Key key, Row row) throws SQLException {
        String cols = String.join(", ", kind.columns.stream().map(Column::name).toList());
        String params = String.join(", ", kind.columns.stream().map(k -> "?::" + k.type()).toList());
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO src (" + cols + ", a, b, big) VALUES (" + params + ", ?, ?, ?)")) {
            int p = bindKey(ps, 1, key);
            ps.setInt(p++, row.a());
            ps.setString(p++, row.b());
            ps.setString(p, row.big());
            ps.executeUpdate();
        }
    }

    int execForKey(Connection c, String sqlBeforeWhere, Key key, Object... leading) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sqlBeforeWhere + " WHERE " + keyWhere())) {
            int p = 1;
            for (Object o : leading) {
                ps.setObject(p++, o);
            }
            bindKey(ps, p, key);
            return ps.executeUpdate();
        }
    }

    String keyWhere() {
        return KeyParams.where(kind);
    }

    int bindKey(PreparedStatement ps, int p, Key key) throws SQLException {
        return KeyParams.bind(ps, p, key);
    }

    /** Compares the target with transform(source) computed here, in Java. */
    RowCheck check() throws SQLException {
        Map<Key, List<Object>> expected = new HashMap<>();
        Map<Key, List<Object>> actual = new HashMap<>();
        ShapeRows.read(db, kind, mode, "a, b, big", "doubled, label, digest", (k, rs, i) -> {
            List<Object> row = new ArrayList<>(ShapeRows.doubledAndLabel(rs.getInt(i), rs.getString(i + 1)));
            String big = rs.getString(i + 2);
            row.add(big == null ? ShapeRows.NULL : md5(big));
            expected.put(k, row);
        }, (k, rs, i) -> actual.put(k, ShapeRows.values(rs, i, 3)));
        ModelDiff d = ModelDiff.compare(expected, actual);
        return RowCheck.of(d);
    }

    static String md5(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
