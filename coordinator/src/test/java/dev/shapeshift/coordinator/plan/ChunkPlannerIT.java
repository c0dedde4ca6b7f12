package dev.shapeshift.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.catalog.PlanStore;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.spec.Backfill;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecBuilder;
import dev.shapeshift.spec.TargetColumn;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class ChunkPlannerIT {
    private final PostgresServer pg;

    ChunkPlannerIT(PostgresServer pg) {
        this.pg = pg;
    }

    private record Setup(Database db, ChunkStore store, ResolvedSpec resolved) {
    }

    private Setup setup(List<Column> key, String ddl, String insert, int chunkRows) throws SQLException {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase("plan")), pg.user(), pg.password());
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE src (" + ddl + ", a integer)");
            if (insert != null) {
                s.execute(insert);
            }
        }
        CatalogSchema.migrate(db);
        Catalog catalog = new Catalog(db, "test");
        MigrationSpec spec = SpecBuilder.spec("plan-test").source("public", "src", key.stream().map(Column::name).toList())
                .mode(Mode.IN_PLACE).target(null, null, List.of(new TargetColumn("b", "integer", "a")))
                .backfill(new Backfill(chunkRows, null, null, null, null, null)).build();
        catalog.create("plan-test", "{}", "test", "test");
        return new Setup(db, new ChunkStore(catalog), new ResolvedSpec(spec, key, key));
    }

    /** Rows of each planned chunk, counted with the key tuple order the copy uses. */
    private static List<Long> sizes(Setup s, List<Chunk> plan) throws SQLException {
        List<Column> key = s.resolved().key();
        String tuple = "(" + String.join(", ", s.resolved().keyNames()) + ")";
        String params = "(" + String.join(", ", key.stream().map(k -> "?::" + k.type()).toList()) + ")";
        List<Long> out = new ArrayList<>();
        try (Connection c = s.db().connect("test")) {
            for (Chunk ch : plan) {
                String where = (ch.lower() == null ? "true" : tuple + " > " + params) + " AND "
                        + (ch.upper() == null ? "true" : tuple + " <= " + params);
                List<Object> bounds = new ArrayList<>();
                for (Key k : new Key[] {ch.lower(), ch.upper()}) {
                    if (k != null) {
                        bounds.addAll(k.values());
                    }
                }
                out.add(Sql.one(c, "SELECT count(*) FROM src WHERE " + where, rs -> rs.getLong(1), bounds.toArray()));
            }
        }
        return out;
    }

    @Test
    void sparseSkewedIntegerKeysGetSimilarChunksFromTheHistogram() throws SQLException {
        // 6000 dense small ids, then 4000 ids spread over a huge sparse range.
        Setup s = setup(List.of(new Column("id", "bigint")), "id bigint PRIMARY KEY",
                "INSERT INTO src SELECT CASE WHEN i < 6000 THEN i ELSE 1000000 + i::bigint * i * 97 END, i "
                        + "FROM generate_series(0, 9999) i", 1000);
        assertPlanned(s, "histogram", 9, 11, 10_000, 500L, 1500L);
    }

    @Test
    void compositeTextIntKeysAreSampled() throws SQLException {
        Setup s = setup(List.of(new Column("region", "text"), new Column("n", "integer")),
                "region text, n integer, PRIMARY KEY (region, n)",
                "INSERT INTO src SELECT 'r' || (i % 7), i * 13, i FROM generate_series(0, 7999) i", 500);
        assertPlanned(s, "sample", 12, 17, 8000, 150L, 1100L);
    }

    /**
     * Plans {@code s}'s table and checks the plan: made by {@code method}, {@code minChunks} to
     * {@code maxChunks} chunks that together hold all {@code rows} rows, each chunk between
     * {@code smallest} and {@code largest} rows (counted independently, by {@link #sizes}).
     */
    private static void assertPlanned(Setup s, String method, int minChunks, int maxChunks, long rows, long smallest,
                                      long largest) throws SQLException {
        List<Chunk> plan = new ChunkPlanner(s.store()).plan(s.resolved());
        assertThat(new PlanStore(s.store().catalog()).planInfo("plan-test").orElseThrow().method()).isEqualTo(method);
        assertThat(plan).hasSizeBetween(minChunks, maxChunks);
        List<Long> sizes = sizes(s, plan);
        assertThat(sizes.stream().mapToLong(Long::longValue).sum()).isEqualTo(rows);
        assertThat(sizes).allSatisfy(n -> assertThat(n).isBetween(smallest, largest));
    }

    /**
     * A table stored in key order (the usual case: rows loaded in key order, or CLUSTERed), sampled by
     * pages: every chunk within 2x of the target. The control is the same plan with the sample
     * sized by rows (as before): it takes about one page per chunk, and the chunks spread far
     * beyond 2x — the table is the case the page sizing exists for.
     */
    @Test
    void aTableStoredInKeyOrderGetsChunksWithinTwiceTheTargetFromAPageSample() throws SQLException {
        Setup s = setup(List.of(new Column("region", "integer"), new Column("n", "integer")),
                "region integer, n integer, PRIMARY KEY (region, n)",
                "INSERT INTO src SELECT i / 10000, i % 10000, i FROM generate_series(0, 599999) i ORDER BY 1, 2", 20_000);
        try (Connection c = s.db().connect("test"); Statement st = c.createStatement()) {
            st.execute("VACUUM ANALYZE src");
            ChunkPlanner.TableSize size = ChunkPlanner.tableSize(c, s.resolved());
            // 30 chunks wanted: SYSTEM from 100k rows on (the planner's own threshold is 1M) samples
            // 1500 of ~3,250 pages by pages, ~1 page per chunk by rows.
            ChunkPlanner.Boundaries byPages = ChunkPlanner.boundaries(c, s.resolved(), size, 20_000, 100_000,
                    ChunkPlanner.SystemSampleSize.PAGES);
            ChunkPlanner.Boundaries byRows = ChunkPlanner.boundaries(c, s.resolved(), size, 20_000, 100_000,
                    ChunkPlanner.SystemSampleSize.ROWS);
            assertThat(byPages.method()).isEqualTo("sample");
            List<Long> pages = sizes(s, ChunkPlanner.count(c, s.resolved(), byPages.keys()), byPages.keys());
            List<Long> rows = sizes(s, ChunkPlanner.count(c, s.resolved(), byRows.keys()), byRows.keys());
            assertThat(pages.stream().mapToLong(Long::longValue).sum()).isEqualTo(600_000);
            assertThat(pages.subList(0, pages.size() - 1)).allSatisfy(n -> assertThat(n).isBetween(10_000L, 40_000L));
            assertThat(pages.get(pages.size() - 1)).isLessThanOrEqualTo(40_000L);
            assertThat(rows.stream().mapToLong(Long::longValue).sum()).isEqualTo(600_000);
            assertThat(rows).as("chunks of a rows-sized sample: %s", rows).anyMatch(n -> n < 10_000L || n > 40_000L);
            System.out.printf("page sample: %s%nrow sample: %s%n", pages, rows);
        }
    }

    /** The planner's counts, checked against this test's own count of every chunk. */
    private List<Long> sizes(Setup s, List<Long> counted, List<Key> bounds) throws SQLException {
        List<Chunk> chunks = new ArrayList<>();
        for (int i = 0; i <= bounds.size(); i++) {
            chunks.add(new Chunk("plan-test", i, i == 0 ? null : bounds.get(i - 1), i == bounds.size() ? null : bounds.get(i),
                    "pending", null, 0, 0, 0, null, 0, null, null, null));
        }
        List<Long> own = sizes(s, chunks);
        assertThat(counted).isEqualTo(own);
        return own;
    }

    @Test
    void uuidKeysAreChunked() throws SQLException {
        Setup s = setup(List.of(new Column("id", "uuid")), "id uuid PRIMARY KEY",
                "INSERT INTO src SELECT md5(i::text)::uuid, i FROM generate_series(1, 5000) i", 1000);
        List<Chunk> plan = new ChunkPlanner(s.store()).plan(s.resolved());
        assertThat(plan).hasSizeBetween(4, 6);
        assertThat(sizes(s, plan).stream().mapToLong(Long::longValue).sum()).isEqualTo(5000);
    }

    @Test
    void planningAgainReturnsTheStoredPlan() throws SQLException {
        Setup s = setup(List.of(new Column("id", "bigint")), "id bigint PRIMARY KEY",
                "INSERT INTO src SELECT i * 5, i FROM generate_series(1, 5000) i", 500);
        List<Chunk> first = new ChunkPlanner(s.store()).plan(s.resolved());
        try (Connection c = s.db().connect("test"); Statement st = c.createStatement()) {
            // New rows and fresh statistics would give other boundaries; the stored plan must win.
            st.execute("INSERT INTO src SELECT 100000 + i, i FROM generate_series(1, 5000) i");
            st.execute("ANALYZE src");
        }
        List<Chunk> second = new ChunkPlanner(s.store()).plan(s.resolved());
        List<Chunk> third = new ChunkPlanner(s.store()).plan(s.resolved());
        assertThat(second).isEqualTo(first);
        assertThat(third).isEqualTo(first);
        assertThat(s.store().chunks("plan-test")).hasSize(first.size());
    }

    @Test
    void anEmptyTableIsOneOpenChunk() throws SQLException {
        Setup s = setup(List.of(new Column("id", "bigint")), "id bigint PRIMARY KEY", null, 500);
        List<Chunk> plan = new ChunkPlanner(s.store()).plan(s.resolved());
        assertThat(plan).hasSize(1);
        assertThat(plan.get(0).lower()).isNull();
        assertThat(plan.get(0).upper()).isNull();
    }
}
