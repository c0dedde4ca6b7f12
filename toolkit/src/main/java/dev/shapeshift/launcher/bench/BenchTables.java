package dev.shapeshift.launcher.bench;

import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.TargetColumn;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The benchmark's tables: {@code bench_src(id bigint PK, a int, b text, created timestamptz)} with
 * N rows from one {@code generate_series} INSERT, and the new shape {@code doubled = a * 2},
 * {@code label = upper(b)} in {@code bench_tgt} (table mode) or as new columns of the source
 * (in place). Every measurement starts from a fresh copy: dropped, reloaded, {@code VACUUM
 * ANALYZE}d (hint bits and visibility map set, as on a settled production table) and
 * {@code CHECKPOINT}ed, so no run inherits dirty pages or bloat from the one before.
 */
final class BenchTables {
    static final String SOURCE = "bench_src";
    static final String TARGET = "bench_tgt";
    static final String COMPACT = "bench_compact";
    static final List<TargetColumn> COLUMNS = List.of(
            new TargetColumn("doubled", "integer", "a * 2"),
            new TargetColumn("label", "text", "upper(b)"));

    /** Heap and index bytes of a table, and WAL position. */
    record Sizes(long heapBytes, long indexBytes) {
    }

    private BenchTables() {
    }

    static void fresh(Connection c, long rows, Mode mode) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + SOURCE + ", " + TARGET);
            s.execute("CREATE TABLE " + SOURCE + " (id bigint PRIMARY KEY, a integer NOT NULL, b text, created timestamptz"
                    + (mode == Mode.IN_PLACE ? ", doubled integer, label text" : "") + ")");
            s.execute("INSERT INTO " + SOURCE + " (id, a, b, created) SELECT i, (i * 37) % 1000, 'payload-' || i, "
                    + "timestamptz '2024-01-01' + i * interval '1 second' FROM generate_series(1, " + rows + ") i");
            if (mode == Mode.TABLE) {
                s.execute("CREATE TABLE " + TARGET + " (id bigint PRIMARY KEY, doubled integer, label text)");
            }
            s.execute("VACUUM ANALYZE " + SOURCE);
            s.execute("CHECKPOINT");
        }
    }

    /** The bulk statement Shapeshift is compared with: one INSERT … SELECT, or one UPDATE of every row. */
    static String bulkStatement(Mode mode) {
        return mode == Mode.TABLE
                ? "INSERT INTO " + TARGET + " (id, doubled, label) SELECT id, a * 2, upper(b) FROM " + SOURCE
                : "UPDATE " + SOURCE + " SET doubled = a * 2, label = upper(b)";
    }

    static String written(Mode mode) {
        return mode == Mode.TABLE ? TARGET : SOURCE;
    }

    static Sizes sizes(Connection c, String table) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_table_size('" + table + "'::regclass), pg_indexes_size('"
                     + table + "'::regclass)")) {
            rs.next();
            return new Sizes(rs.getLong(1), rs.getLong(2));
        }
    }

    /**
     * Heap and index bytes of a compact copy of the table's rows as they are now: {@code CREATE UNLOGGED TABLE
     * … AS SELECT *} and its primary key built in one pass, then dropped. After a backfill that added and filled
     * columns, the rows are wider than before; heap after ÷ this heap is the bloat, net of that.
     */
    static Sizes compact(Connection c, String table) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + COMPACT);
            s.execute("CREATE UNLOGGED TABLE " + COMPACT + " AS SELECT * FROM " + table);
            s.execute("ALTER TABLE " + COMPACT + " ADD PRIMARY KEY (id)");
            Sizes sizes = sizes(c, COMPACT);
            s.execute("DROP TABLE " + COMPACT);
            return sizes;
        }
    }

    static String walLsn(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return rs.getString(1);
        }
    }

    static long walBytesSince(Connection c, String lsn) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '" + lsn + "'::pg_lsn)::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
