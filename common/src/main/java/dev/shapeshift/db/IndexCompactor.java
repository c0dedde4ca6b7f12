package dev.shapeshift.db;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Returns the index bloat a backfill leaves (docs/performance.md, "Index size after the
 * backfill"): measures each valid B-tree index of one table against the size a one-pass build of
 * the same entries would have, and rebuilds with {@code REINDEX INDEX CONCURRENTLY} the ones above
 * {@code threshold} × that size. {@code REINDEX … CONCURRENTLY} takes a SHARE UPDATE EXCLUSIVE lock
 * (reads and writes go on; it waits for transactions older than it, under the session's
 * {@code lock_timeout}, retried by {@link LockSafeDdl}).
 *
 * <p>How the one-pass size is known: with the {@code pgstattuple} extension installed,
 * {@code pgstatindex}'s leaf density against the index's fillfactor (a one-pass build fills leaves to
 * the fillfactor); without it (managed databases often lack it), an estimate from the table's row
 * count ({@code ANALYZE}d first) and the key columns' average width in {@code pg_stats}: entries per
 * leaf = (8192 − 40) × fillfactor ÷ (MAXALIGN(8 + key bytes) + 4), plus one internal page per
 * ~hundreds of leaves. Indexes whose size cannot be estimated (expressions without statistics, other
 * access methods) are reported and left alone. B-tree deduplication makes a non-unique index with
 * many duplicates smaller than the estimate: such an index is not rebuilt (a missed bloat, never a
 * needless rebuild).
 *
 * <p>A rebuild that fails leaves an INVALID {@code <index>_ccnew} (or {@code _ccold}) behind; every
 * attempt first drops those leftovers concurrently, so a retry starts clean and the leftover never
 * slows writes for long.
 */
public final class IndexCompactor {
    private static final Logger log = LoggerFactory.getLogger(IndexCompactor.class);
    private static final int PAGE = 8192;
    /** Page header (24) and B-tree special space (16). */
    private static final int USABLE = PAGE - 40;

    /**
     * One index as measured and what was done.
     *
     * @param estimateBytes the one-pass size; 0 when it could not be estimated
     * @param how           {@code pgstatindex}, {@code estimate} or why there is none
     * @param afterBytes    size after a rebuild; equal to {@code bytes} when not rebuilt
     * @param millis        time the rebuild took; 0 when none
     */
    public record Index(String schema, String name, long bytes, long estimateBytes, String how, boolean rebuilt,
                        long afterBytes, long millis) {
        /** Size ÷ the one-pass size; 0 when unknown. */
        public double ratio() {
            return estimateBytes <= 0 ? 0 : (double) bytes / estimateBytes;
        }

        String describe() {
            String mb = String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
            if (estimateBytes <= 0) {
                return name + " " + mb + " (" + how + ": left as is)";
            }
            String r = String.format(Locale.ROOT, "%.2f", ratio());
            return rebuilt ? String.format(Locale.ROOT, "%s %s = %s× its one-pass size (%s) → rebuilt concurrently, "
                    + "%.1f MB in %.1f s", name, mb, r, how, afterBytes / 1048576.0, millis / 1000.0)
                    : name + " " + mb + " = " + r + "× its one-pass size (" + how + "): kept";
        }
    }

    private IndexCompactor() {
    }

    /**
     * Measures every valid B-tree index of {@code schema.table} and rebuilds concurrently those above
     * {@code threshold} × their one-pass size ({@code threshold} ≤ 0: measure only).
     */
    public static List<Index> run(Database db, String role, LockSafeDdl ddl, String schema, String table,
                                  double threshold) {
        String doing = "compacting the indexes of " + schema + "." + table;
        ddl.outsideTransaction("analyzing " + schema + "." + table, "ANALYZE " + Ident.qualified(schema, table));
        List<Index> measured;
        try (Connection c = db.connect(role)) {
            measured = measure(c, schema, table);
        } catch (SQLException e) {
            throw SqlStates.translate(doing, e);
        }
        List<Index> out = new ArrayList<>();
        for (Index i : measured) {
            if (threshold <= 0 || i.estimateBytes() <= 0 || i.ratio() <= threshold) {
                out.add(i);
                continue;
            }
            out.add(rebuild(ddl, table, i));
        }
        return out;
    }

    /** One line naming what was measured and done, for the migration's message and the audit log. */
    public static String summary(List<Index> indexes, double threshold) {
        if (indexes.isEmpty()) {
            return "no B-tree index to check";
        }
        StringBuilder b = new StringBuilder(threshold <= 0 ? "index sizes (rebuild off): "
                : String.format(Locale.ROOT, "index sizes (rebuild above %.2f× the one-pass size): ", threshold));
        for (int n = 0; n < indexes.size(); n++) {
            b.append(n == 0 ? "" : "; ").append(indexes.get(n).describe());
        }
        return b.toString();
    }

    private static Index rebuild(LockSafeDdl ddl, String table, Index i) {
        long t0 = System.nanoTime();
        return ddl.outsideTransaction("rebuilding index " + i.schema() + "." + i.name() + " concurrently", c -> {
            dropLeftovers(c, i.schema(), i.name());
            try (Statement s = c.createStatement()) {
                s.execute("REINDEX INDEX CONCURRENTLY " + Ident.qualified(i.schema(), i.name()));
            } catch (SQLException e) {
                // The failed rebuild's INVALID copy slows every write until dropped: drop it now, not at the retry.
                try {
                    dropLeftovers(c, i.schema(), i.name());
                } catch (SQLException again) {
                    e.addSuppressed(again);
                }
                throw e;
            }
            java.util.Optional<Boolean> valid = ConcurrentIndex.validity(c, i.schema(), i.name());
            if (valid.isEmpty() || !valid.get()) {
                throw new ShapeshiftException(ErrorCode.INTERNAL, "index " + i.schema() + "." + i.name()
                        + " is " + (valid.isEmpty() ? "missing" : "INVALID") + " after REINDEX INDEX CONCURRENTLY");
            }
            long after = indexBytes(c, i.schema(), i.name());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            log.info("index rebuilt concurrently index={}.{} table={} bytes_before={} bytes_after={} estimate={} ms={}",
                    i.schema(), i.name(), table, i.bytes(), after, i.estimateBytes(), ms);
            return new Index(i.schema(), i.name(), i.bytes(), i.estimateBytes(), i.how(), true, after, ms);
        });
    }

    /** Drops the INVALID {@code <name>_ccnew[N]} / {@code _ccold[N]} a failed concurrent rebuild left. */
    static int dropLeftovers(Connection c, String schema, String name) throws SQLException {
        List<String> leftovers = new ArrayList<>();
        java.util.regex.Pattern mine = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(name)
                + "_cc(new|old)[0-9]*");
        Sql.each(c, "SELECT x.relname FROM pg_index i JOIN pg_class x "
                + "ON x.oid = i.indexrelid JOIN pg_namespace n ON n.oid = x.relnamespace WHERE n.nspname = ? "
                + "AND NOT i.indisvalid AND starts_with(x.relname, ?)", rs -> {
                if (mine.matcher(rs.getString(1)).matches()) {
                    leftovers.add(rs.getString(1));
                }
            }, schema, name + "_cc");
        for (String l : leftovers) {
            log.warn("dropping INVALID index left by a failed concurrent rebuild index={}.{}", schema, l);
            ConcurrentIndex.drop(c, schema, l);
        }
        return leftovers.size();
    }

    /** Every valid B-tree index of the table with its size and one-pass size (0 when unknown). */
    public static List<Index> measure(Connection c, String schema, String table) throws SQLException {
        boolean pgstattuple = Sql.exists(c, "SELECT 1 FROM pg_extension WHERE extname = 'pgstattuple'");
        List<Index> out = new ArrayList<>();
        Sql.each(c, "SELECT x.relname, x.oid, pg_relation_size(x.oid), "
                + "am.amname, coalesce((SELECT split_part(o, '=', 2)::int FROM unnest(x.reloptions) o "
                + "WHERE o LIKE 'fillfactor=%'), 90), greatest(t.reltuples, 0)::bigint, i.indexprs IS NOT NULL, "
                + "i.indisvalid AND i.indisready "
                + "FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
                + "JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = x.relam "
                + "WHERE n.nspname = ? AND t.relname = ? ORDER BY x.relname", rs -> {
                    String name = rs.getString(1);
                    long oid = rs.getLong(2);
                    long bytes = rs.getLong(3);
                    if (!rs.getBoolean(8)) {
                        return; // INVALID: a build in progress or a leftover, not ours to size
                    }
                    if (!"btree".equals(rs.getString(4))) {
                        out.add(new Index(schema, name, bytes, 0, rs.getString(4) + " index, not estimated", false, bytes, 0));
                        return;
                    }
                    int fillfactor = rs.getInt(5);
                    long rows = rs.getLong(6);
                    long estimate;
                    String how;
                    if (pgstattuple) {
                        estimate = fromLeafDensity(c, oid, bytes, fillfactor);
                        how = "pgstatindex";
                    } else if (rs.getBoolean(7)) {
                        estimate = 0;
                        how = "expression index, not estimated without pgstattuple";
                    } else {
                        Double width = keyWidth(c, oid);
                        estimate = width == null ? 0 : estimate(rows, width, fillfactor);
                        how = width == null ? "no statistics for its columns, not estimated" : "estimate";
                    }
                    out.add(new Index(schema, name, bytes, estimate, how, false, bytes, 0));
                }, schema, table);
        return out;
    }

    /**
     * Bytes of a one-pass B-tree of {@code rows} entries whose key data take {@code keyBytes} on
     * average: leaves filled to {@code fillfactor}, internal pages, the meta page.
     */
    static long estimate(long rows, double keyBytes, int fillfactor) {
        long entry = align8(8 + (long) Math.ceil(keyBytes)) + 4;
        long perLeaf = Math.max(2, (long) (USABLE * fillfactor / 100.0) / entry);
        long leaves = Math.max(1, (rows + perLeaf - 1) / perLeaf);
        long perInternal = Math.max(2, (USABLE * 70L / 100) / entry);
        long pages = 1 + leaves;
        for (long level = leaves; level > 1; ) {
            level = (level + perInternal - 1) / perInternal;
            pages += level;
        }
        return pages * PAGE;
    }

    private static long align8(long n) {
        return (n + 7) & ~7L;
    }

    /** The key columns' average stored width (pg_stats), summed; null when a column has no statistics. */
    private static Double keyWidth(Connection c, long indexOid) throws SQLException {
        return Sql.one(c, "SELECT count(*), count(s.avg_width), sum(s.avg_width) "
                + "FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey[0:i.indnkeyatts - 1]) k(attnum) "
                + "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                + "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
                + "LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = t.relname "
                + "AND s.attname = a.attname WHERE i.indexrelid = ?",
                rs -> rs.getLong(1) == 0 || rs.getLong(1) != rs.getLong(2) ? null : rs.getDouble(3), indexOid);
    }

    /** The index's live entry bytes (its leaf density) as a one-pass build would pack them. */
    private static long fromLeafDensity(Connection c, long indexOid, long bytes, int fillfactor) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT avg_leaf_density FROM pgstatindex(?::oid::regclass)")) {
            ps.setLong(1, indexOid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                double density = rs.getDouble(1);
                return density <= 0 || Double.isNaN(density) ? 0 : (long) (bytes * Math.min(1.0, density / fillfactor));
            }
        }
    }

    private static long indexBytes(Connection c, String schema, String name) throws SQLException {
        return Sql.one(c, "SELECT pg_relation_size(to_regclass(?))", rs -> rs.getLong(1),
                Ident.qualified(schema, name));
    }
}
