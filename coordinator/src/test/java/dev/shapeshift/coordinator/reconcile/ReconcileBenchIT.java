package dev.shapeshift.coordinator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.reconcile.RunStore.Run;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.Reconcile;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecBuilder;
import dev.shapeshift.spec.TargetColumn;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a full reconcile of 200k rows compares with the cheapest possible full scans: one
 * {@code sum(hashtextextended(t::text, 0))} over each table, and {@code count(*)} of each; plus the
 * alternative design (per-range count + hash sum of both sides, the first pass of a bisecting
 * differ). Printed, not asserted: the machine is shared.
 */
@ExtendWith(PostgresExtension.class)
class ReconcileBenchIT {
    private static final Logger log = LoggerFactory.getLogger(ReconcileBenchIT.class);
    private static final int ROWS = 200_000;
    private static final int RANGE = 10_000;

    @Test
    void reconcileVersusHashScanVersusCount(PostgresServer pg) throws Exception {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase("bench")), pg.user(), pg.password());
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE src (id bigint PRIMARY KEY, a integer NOT NULL, b text)");
            s.execute("CREATE TABLE tgt (id bigint PRIMARY KEY, doubled integer, label text)");
            s.execute("INSERT INTO src SELECT g, g % 1000, 'b' || g FROM generate_series(1, " + ROWS + ") g");
            s.execute("INSERT INTO tgt SELECT id, a * 2, upper(b) FROM src");
            s.execute("VACUUM ANALYZE src");
            s.execute("VACUUM ANALYZE tgt");
        }
        CatalogSchema.migrate(db);
        Catalog catalog = new Catalog(db, "test");
        catalog.create("bench", "{}", "test", "test");
        MigrationSpec spec = SpecBuilder.spec("bench").source("public", "src", "id").mode(Mode.TABLE)
                .target("public", "tgt", List.of(new TargetColumn("doubled", "integer", "a * 2"),
                        new TargetColumn("label", "text", "upper(b)"))).build();
        ResolvedSpec resolved = new ResolvedSpec(spec, List.of(new Column("id", "bigint")), List.of(new Column("id", "bigint")));
        Reconciler reconciler = new Reconciler(catalog, "bench", resolved, SyncProgress.NO_SYNC,
                new SimpleMeterRegistry(), Reconciler.Options.from(new Reconcile(RANGE, null, null, null)));

        try (Connection c = db.connect("test")) {
            long count = 0;
            long hash = 0;
            long ranges = 0;
            long reconcile = Long.MAX_VALUE;
            for (int round = 0; round < 2; round++) {
                count = Math.min(round == 0 ? Long.MAX_VALUE : count, time(() -> {
                    scalar(c, "SELECT count(*) FROM src");
                    scalar(c, "SELECT count(*) FROM tgt");
                }));
                hash = Math.min(round == 0 ? Long.MAX_VALUE : hash, time(() -> {
                    scalar(c, "SELECT sum(hashtextextended(s::text, 0)) FROM src s");
                    scalar(c, "SELECT sum(hashtextextended(t::text, 0)) FROM tgt t");
                }));
                ranges = Math.min(round == 0 ? Long.MAX_VALUE : ranges, time(() -> {
                    for (long lo = 0; lo < ROWS; lo += RANGE) {
                        rangeHash(c, "SELECT count(*), sum(hashtextextended(row(a * 2, upper(b))::text, 0)) FROM src "
                                + "WHERE id > ? AND id <= ?", lo);
                        rangeHash(c, "SELECT count(*), sum(hashtextextended(row(doubled, label)::text, 0)) FROM tgt "
                                + "WHERE id > ? AND id <= ?", lo);
                    }
                }));
                Run[] run = new Run[1];
                reconcile = Math.min(reconcile, time(() -> run[0] = reconciler.runOnce(() -> false)));
                assertThat(run[0].rowsChecked()).isEqualTo(ROWS);
                assertThat(run[0].driftFound()).isZero();
            }
            log.info("reconcile bench rows={} range_rows={} count_both_ms={} hash_scan_both_ms={} "
                    + "per_range_count_hash_both_ms={} reconcile_ms={} reconcile_rows_per_s={}",
                    ROWS, RANGE, count, hash, ranges, reconcile, ROWS * 1000L / Math.max(1, reconcile));
        }
    }

    @FunctionalInterface
    private interface Work {
        void run() throws Exception;
    }

    private static long time(Work w) throws Exception {
        long t0 = System.nanoTime();
        w.run();
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static void scalar(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
        }
    }

    private static void rangeHash(Connection c, String sql, long lo) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, lo);
            ps.setLong(2, lo + RANGE);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
            }
        }
    }
}
