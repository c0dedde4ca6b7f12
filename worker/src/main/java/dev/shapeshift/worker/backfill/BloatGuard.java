package dev.shapeshift.worker.backfill;

import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.PlanStore;
import dev.shapeshift.catalog.VacuumLog;
import dev.shapeshift.db.Sql;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In-place mode rewrites every row, which would double the heap and its indexes. Every time the
 * migration's rows copied (summed over all workers in the catalog) crosses another mark — a
 * fraction of the table's estimated rows, {@link #fraction(double)} — the worker that claims the
 * mark in {@code backfill_vacuum} runs a plain {@code VACUUM} of the table on its own connection,
 * outside any transaction, so the space of the old row versions is reused by the next updates.
 * Sizes before and after are recorded there.
 *
 * <p>Between two VACUUMs the table grows by at most the dead versions of one interval, so the heap
 * ends near (1 + fraction) × the compact size of its rows. The fraction is half the allowed growth
 * ({@code backfill.maxHeapGrowth} 1.2: every 10% of the rows): the other half is left for free
 * space too small for a new version and for sub-batches of other workers still in flight while a
 * VACUUM runs (figures: docs/performance.md, "Bloat in place"). Growth from
 * rows that get wider (new columns filled) is not bloat and no VACUUM can avoid it.
 *
 * <p>The table's size is read when the first sub-batch is done, not when the worker starts: a
 * worker that starts before the coordinator has planned finds no estimate yet, and marks of a
 * zero estimate would be one row apart — a VACUUM after every sub-batch (docs/performance.md,
 * "Where the time goes"). The plan's estimate is used, else {@code pg_class.reltuples}.
 *
 * <p>Concurrent VACUUMs of one table wait for each other; that is fine. Needs the table owner or a
 * superuser; without the privilege PostgreSQL skips the table with a warning.
 */
final class BloatGuard {
    private static final Logger log = LoggerFactory.getLogger(BloatGuard.class);

    private final ChunkStore store;
    private final String migration;
    private final String table;
    private final String workerId;
    private final double fraction;
    private final int chunkRows;
    private long step;
    private int lastMark;

    BloatGuard(ChunkStore store, ResolvedSpec resolved, String workerId) {
        this.store = store;
        this.migration = resolved.spec().name();
        this.table = Ident.qualified(resolved.spec().source().schema(), resolved.spec().source().table());
        this.workerId = workerId;
        this.fraction = fraction(resolved.spec().backfill().maxHeapGrowth());
        this.chunkRows = resolved.spec().backfill().chunkRows();
    }

    /** Share of the table's rows between two VACUUMs: half the allowed growth, between 1% and 50%. */
    static double fraction(double maxHeapGrowth) {
        return Math.max(0.01, Math.min(0.50, (maxHeapGrowth - 1.0) / 2));
    }

    /** Rows between two VACUUMs: a fraction of the table, never less than one chunk. */
    static long step(long estimatedRows, double fraction, int chunkRows) {
        return Math.max(Math.max(1, chunkRows), Math.round(estimatedRows * fraction));
    }

    private long step(Connection c) throws SQLException {
        if (step == 0) {
            long estimated = new PlanStore(store.catalog()).planInfo(migration).map(ChunkStore.PlanInfo::estimatedRows).orElse(0L);
            if (estimated <= 0) {
                try (PreparedStatement ps = c.prepareStatement("SELECT reltuples::bigint FROM pg_class WHERE oid = ?::regclass")) {
                    ps.setString(1, table);
                    try (ResultSet rs = ps.executeQuery()) {
                        estimated = rs.next() ? rs.getLong(1) : 0;
                    }
                }
            }
            step = step(estimated, fraction, chunkRows);
            log.info("bloat guard migration={} estimated_rows={} vacuum_every_rows={}", migration, estimated, step);
        }
        return step;
    }

    /** After a committed sub-batch: vacuums if this worker claims a newly crossed mark. */
    void afterBatch(Connection c) {
        try {
            long copied = store.rowsCopied(c, migration);
            int mark = (int) (copied / step(c));
            if (mark <= lastMark) {
                return;
            }
            lastMark = mark;
            long[] before = sizes(c);
            if (!new VacuumLog(store.catalog()).claimVacuum(migration, mark, workerId, before[0], before[1])) {
                return;
            }
            long started = System.nanoTime();
            try (Statement s = c.createStatement()) {
                s.execute("VACUUM " + table);
            }
            long[] after = sizes(c);
            new VacuumLog(store.catalog()).vacuumFinished(migration, mark, after[0], after[1]);
            log.info("vacuumed migration={} mark={} rows_copied={} table_bytes={}->{} index_bytes={}->{} ms={}",
                    migration, mark, copied, before[0], after[0], before[1], after[1],
                    (System.nanoTime() - started) / 1_000_000);
        } catch (SQLException e) {
            // Bloat control is best effort: the copy stays correct without it.
            log.warn("vacuum between batches failed migration={} error={}", migration,
                    SqlStates.translate("vacuum", e).getMessage());
        }
    }

    private long[] sizes(Connection c) throws SQLException {
        return Sql.one(c,
                "SELECT pg_table_size(?::regclass), pg_indexes_size(?::regclass)",
                rs -> new long[] {rs.getLong(1), rs.getLong(2)}, table, table);
    }
}
