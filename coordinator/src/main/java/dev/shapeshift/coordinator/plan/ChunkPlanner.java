package dev.shapeshift.coordinator.plan;

import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.catalog.ChunkStore.PlanInfo;
import dev.shapeshift.catalog.PlanStore;
import dev.shapeshift.db.Sql;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeySql;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.sql.Ident;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Splits a migration's source key space into chunks of about {@code backfill.chunkRows} rows,
 * without sorting the table:
 * <ul>
 *   <li>single-column keys: the equal-frequency {@code pg_stats.histogram_bounds} of the key
 *       column, when it has enough buckets (ANALYZE first if the table was never analysed);</li>
 *   <li>otherwise (composite keys, coarse histograms): a {@code TABLESAMPLE} of keys
 *       ({@code BERNOULLI} below a million rows, {@code SYSTEM} pages above), sorted in SQL, and
 *       every n-th sampled key as a boundary.</li>
 * </ul>
 * A {@code SYSTEM} sample takes whole pages, so on a table stored in key order (loaded in order,
 * or CLUSTERed) each sampled page is one run of neighbouring keys: what spreads the boundaries
 * evenly is the number of <em>pages</em> per chunk, not of rows. It is sized to
 * {@value #SAMPLE_PAGES_PER_CHUNK} pages per chunk wanted (sized by rows, it took about one page
 * per chunk and most boundaries fell next to each other; figures in docs/performance.md, "Chunk
 * sizes on tables stored in key order", from {@code shapeshift bench plan}).
 * Chunk i is (b[i-1], b[i]]; the first is open below and the last open above, so keys beyond the
 * statistics' range are still covered. The plan is stored once: planning again returns the stored
 * plan, never a different one.
 */
public final class ChunkPlanner {
    private static final Logger log = LoggerFactory.getLogger(ChunkPlanner.class);
    /** Sampled keys per chunk: enough that a boundary's rank error stays a few percent of a chunk. */
    static final int SAMPLE_PER_CHUNK = 50;
    static final long SYSTEM_SAMPLE_ABOVE_ROWS = 1_000_000;
    /** Sampled pages per chunk ({@code SYSTEM}): a boundary's rank error ~ 1/sqrt of it (~14%) on a table in key order. */
    static final int SAMPLE_PAGES_PER_CHUNK = 50;

    /** How a {@code SYSTEM} sample is sized: by pages (the planner's) or by rows (before, kept for the benchmark's comparison). */
    public enum SystemSampleSize { PAGES, ROWS }

    private final ChunkStore store;

    public ChunkPlanner(ChunkStore store) {
        this.store = store;
    }

    /** The migration's chunk plan: the stored one, or a new one (stored before it is returned). */
    public List<Chunk> plan(ResolvedSpec resolved) {
        String migration = resolved.spec().name();
        List<Chunk> stored = store.chunks(migration);
        if (!stored.isEmpty()) {
            log.info("backfill plan exists migration={} chunks={}", migration, stored.size());
            return stored;
        }
        int chunkRows = resolved.spec().backfill().chunkRows();
        try (Connection c = store.connect()) {
            TableSize size = tableSize(c, resolved);
            Boundaries b = boundaries(c, resolved, size, chunkRows, SYSTEM_SAMPLE_ABOVE_ROWS, SystemSampleSize.PAGES);
            List<Chunk> chunks = new PlanStore(store.catalog()).storePlan(migration, b.keys(),
                    new PlanInfo(b.method(), size.rows(), chunkRows, size.tableBytes(), size.indexBytes()));
            log.info("backfill planned migration={} method={} estimated_rows={} chunk_rows={} chunks={}",
                    migration, b.method(), size.rows(), chunkRows, chunks.size());
            return chunks;
        } catch (SQLException e) {
            throw SqlStates.translate("planning chunks of " + migration, e);
        }
    }

    /** @param analyzed the table had no statistics, and {@link #tableSize} ANALYZEd its key columns first */
    record TableSize(long rows, long pages, long tableBytes, long indexBytes, boolean analyzed) {
    }

    /**
     * A plan made and measured but not stored ({@code shapeshift plan --chunks}, {@code bench plan}):
     * how it was made, and the rows each chunk holds now, counted one key range at a time.
     */
    public record Preview(String method, long estimatedRows, long pages, int chunkRows, double planSeconds,
                          List<Long> chunkRowCounts, boolean analyzed) {
        public long min() {
            return chunkRowCounts.stream().mapToLong(Long::longValue).min().orElse(0);
        }

        public long max() {
            return chunkRowCounts.stream().mapToLong(Long::longValue).max().orElse(0);
        }

        public long median() {
            List<Long> sorted = chunkRowCounts.stream().sorted().toList();
            return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
        }

        /** Chunks holding more than twice, or less than half, the target ({@code chunkRows}); the last chunk may be short. */
        public long outsideTwiceTarget() {
            long outside = 0;
            for (int i = 0; i < chunkRowCounts.size(); i++) {
                long n = chunkRowCounts.get(i);
                boolean last = i == chunkRowCounts.size() - 1;
                if (n > 2L * chunkRows || (!last && n * 2 < chunkRows)) {
                    outside++;
                }
            }
            return outside;
        }
    }

    /** Plans {@code resolved}'s table as {@link #plan} would (nothing stored), then counts every chunk's rows. */
    public static Preview preview(Connection c, ResolvedSpec resolved, SystemSampleSize sizing) throws SQLException {
        int chunkRows = resolved.spec().backfill().chunkRows();
        long t0 = System.nanoTime();
        TableSize size = tableSize(c, resolved);
        Boundaries b = boundaries(c, resolved, size, chunkRows, SYSTEM_SAMPLE_ABOVE_ROWS, sizing);
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Preview(b.method(), size.rows(), size.pages(), chunkRows, seconds, count(c, resolved, b.keys()),
                size.analyzed());
    }

    /** Rows in each chunk (b[i-1], b[i]] of the boundaries, counted over the key (the copy's own range predicate). */
    static List<Long> count(Connection c, ResolvedSpec resolved, List<Key> bounds) throws SQLException {
        KeySql keys = new KeySql(resolved.key());
        String t = "t";
        List<Long> out = new ArrayList<>();
        for (int i = 0; i <= bounds.size(); i++) {
            Key after = i == 0 ? null : bounds.get(i - 1);
            Key upTo = i == bounds.size() ? null : bounds.get(i);
            String sql = "SELECT count(*) FROM " + table(resolved) + " " + t + " WHERE "
                    + keys.rangeWhere(t, after != null, upTo != null);
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                KeySql.bind(ps, 1, after, upTo);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    out.add(rs.getLong(1));
                }
            }
        }
        return out;
    }

    record Boundaries(String method, List<Key> keys) {
    }

    /** Row estimate and sizes; ANALYZEs the key columns first if the table has no statistics yet. */
    static TableSize tableSize(Connection c, ResolvedSpec resolved) throws SQLException {
        String table = table(resolved);
        TableSize size = readSize(c, table);
        boolean analyzed = size.rows() < 0;
        if (analyzed) {
            try (Statement s = c.createStatement()) {
                s.execute("ANALYZE " + table + " (" + Ident.columnList(resolved.keyNames(), null) + ")");
            }
            size = readSize(c, table);
        }
        return new TableSize(Math.max(size.rows(), 0), Math.max(size.pages(), 0), size.tableBytes(), size.indexBytes(),
                analyzed);
    }

    private static TableSize readSize(Connection c, String table) throws SQLException {
        return Sql.one(c, "SELECT reltuples::bigint, relpages::bigint, pg_table_size(oid), "
                + "pg_indexes_size(oid) FROM pg_class WHERE oid = ?::regclass",
                rs -> new TableSize(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), false), table);
    }

    /**
     * The boundaries the planner would store, without storing them: {@code systemAboveRows} is the
     * row count from which the sample takes pages ({@code SYSTEM}) instead of rows ({@code BERNOULLI}).
     */
    static Boundaries boundaries(Connection c, ResolvedSpec resolved, TableSize size, int chunkRows, long systemAboveRows,
                                 SystemSampleSize sizing) throws SQLException {
        long rows = size.rows();
        long wanted = (rows + chunkRows - 1) / chunkRows;
        if (wanted <= 1) {
            return new Boundaries(rows == 0 ? "empty" : "single", List.of());
        }
        if (resolved.key().size() == 1) {
            List<String> histogram = histogram(c, resolved);
            if (histogram.size() - 1 >= wanted) {
                return new Boundaries("histogram", pick(histogram, (int) wanted));
            }
        }
        return new Boundaries("sample", sample(c, resolved, size, wanted, systemAboveRows, sizing));
    }

    /** wanted-1 bounds at equal rank distance; the histogram's first and last bound (min, max) are never boundaries. */
    static List<Key> pick(List<String> histogram, int wanted) {
        List<Key> out = new ArrayList<>();
        int buckets = histogram.size() - 1;
        String previous = null;
        for (int i = 1; i < wanted; i++) {
            String bound = histogram.get((int) Math.round((double) i * buckets / wanted));
            if (!bound.equals(previous)) {
                out.add(Key.of(bound));
            }
            previous = bound;
        }
        return out;
    }

    private static List<String> histogram(Connection c, ResolvedSpec resolved) throws SQLException {
        var source = resolved.spec().source();
        try (PreparedStatement ps = c.prepareStatement("SELECT histogram_bounds::text::text[] FROM pg_stats "
                + "WHERE schemaname = ? AND tablename = ? AND attname = ?")) {
            ps.setString(1, source.schema());
            ps.setString(2, source.table());
            ps.setString(3, resolved.key().get(0).name());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return List.of();
                }
                Array bounds = rs.getArray(1);
                return bounds == null ? List.of() : List.of((String[]) bounds.getArray());
            }
        }
    }

    /** Every (n/wanted)-th key of a sorted sample, selected in SQL: only the boundaries reach the JVM. */
    private static List<Key> sample(Connection c, ResolvedSpec resolved, TableSize size, long wanted, long systemAboveRows,
                                    SystemSampleSize sizing) throws SQLException {
        long rows = size.rows();
        boolean system = rows >= systemAboveRows;
        String method = system ? "SYSTEM" : "BERNOULLI";
        double percent = system && sizing == SystemSampleSize.PAGES
                ? samplePercentOfPages(size.pages(), wanted)
                : Math.min(100.0, 100.0 * Math.min(rows, Math.max(wanted * SAMPLE_PER_CHUNK, 2_000)) / Math.max(rows, 1));
        List<Column> key = resolved.key();
        String cols = Ident.columnList(resolved.keyNames(), null);
        StringJoiner asText = new StringJoiner(", ");
        for (Column k : key) {
            asText.add(Ident.quote(k.name()) + "::text");
        }
        String sql = "WITH s AS (SELECT " + cols + " FROM " + table(resolved) + " TABLESAMPLE " + method
                + " (?) REPEATABLE (7)), r AS (SELECT " + cols + ", row_number() OVER (ORDER BY " + cols
                + ") AS __rn, count(*) OVER () AS __n FROM s) SELECT " + asText
                + " FROM r WHERE __rn < __n AND (__rn * ?) / __n <> ((__rn - 1) * ?) / __n ORDER BY __rn";
        List<Key> out = new ArrayList<>();
        Sql.each(c, sql, rs -> {
                String[] v = new String[key.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = rs.getString(i + 1);
                }
                out.add(Key.of(v));
            }, percent, wanted, wanted);
        return out;
    }

    /** The {@code SYSTEM} percentage that samples {@value #SAMPLE_PAGES_PER_CHUNK} pages per chunk wanted (all pages at most). */
    static double samplePercentOfPages(long pages, long wanted) {
        return Math.min(100.0, 100.0 * wanted * SAMPLE_PAGES_PER_CHUNK / Math.max(pages, 1));
    }

    private static String table(ResolvedSpec resolved) {
        return Ident.qualified(resolved.spec().source().schema(), resolved.spec().source().table());
    }
}
