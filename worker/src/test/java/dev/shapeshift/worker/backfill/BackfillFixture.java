package dev.shapeshift.worker.backfill;

import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.fixtures.KeyParams;
import dev.shapeshift.fixtures.RowCheck;
import dev.shapeshift.fixtures.ShapeRows;
import dev.shapeshift.spec.SpecBuilder;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.coordinator.plan.ChunkPlanner;
import dev.shapeshift.coordinator.plan.ChunkPublisher;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.ModelDiff;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.spec.Backfill;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SinkTarget;
import dev.shapeshift.spec.Target;
import dev.shapeshift.spec.TargetColumn;
import dev.shapeshift.worker.throttle.Limits;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A source table {@code src(<key>, a int, b text)} and the new shape {@code doubled = a * 2},
 * {@code label = upper(b)} (NULL when a % 5 = 0), in a new table {@code tgt} or in place.
 * {@link #check} is the independent model: transform(source) computed in Java.
 */
final class BackfillFixture {

    final String migration;
    final Database db;
    final KeyKind kind;
    final Mode mode;
    final ResolvedSpec resolved;
    final Catalog catalog;
    final ChunkStore store;

    BackfillFixture(PostgresServer pg, KeyKind kind, Mode mode, Backfill backfill) {
        this(pg, kind, mode, backfill, null);
    }

    /** Sink mode into the memory test sink with these settings. */
    BackfillFixture(PostgresServer pg, KeyKind kind, Backfill backfill, Map<String, String> sinkSettings) {
        this(pg, kind, Mode.SINK, backfill, new SinkTarget("memory", sinkSettings));
    }

    private BackfillFixture(PostgresServer pg, KeyKind kind, Mode mode, Backfill backfill, SinkTarget sink) {
        this.migration = "bf-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        this.db = new Database(pg.jdbcUrl(pg.createDatabase("backfill")), pg.user(), pg.password());
        this.kind = kind;
        this.mode = mode;
        List<TargetColumn> columns = List.of(
                new TargetColumn("doubled", "integer", "a * 2"),
                new TargetColumn("label", "text", "CASE WHEN a % 5 = 0 THEN NULL ELSE upper(b) END"));
        List<String> keyNames = kind.columns.stream().map(Column::name).toList();
        MigrationSpec spec = SpecBuilder.spec(migration).source("public", "src", keyNames).mode(mode)
                .target(sink != null ? new Target(null, null, columns, null, null, sink)
                        : new Target("public", mode == Mode.TABLE ? "tgt" : "src", columns)).backfill(backfill).build();
        List<Column> sourceColumns = new ArrayList<>(kind.columns);
        sourceColumns.addAll(List.of(new Column("a", "integer"), new Column("b", "text")));
        this.resolved = new ResolvedSpec(spec, kind.columns, sourceColumns);
        CatalogSchema.migrate(db);
        this.catalog = new Catalog(db, "test");
        this.store = new ChunkStore(catalog);
    }

    static Backfill backfill(int chunkRows, int batchRows, long maxRowsPerSecond) {
        return new Backfill(chunkRows, batchRows, Duration.ofMillis(300), maxRowsPerSecond, Duration.ofMillis(200), 1.2);
    }

    static BackfillConfig config(String workerId) {
        return new BackfillConfig(workerId, Duration.ofSeconds(8), Limits.DEFAULT, Duration.ofMillis(300),
                Duration.ofSeconds(6), Duration.ofSeconds(2));
    }

    /** Creates the tables with {@code rows} source rows and registers the migration in the catalog. */
    BackfillFixture create(int rows) throws SQLException {
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE src (" + kind.ddl + ", a integer NOT NULL, b text)");
            if (mode == Mode.TABLE) {
                String keyCols = String.join(", ", kind.columns.stream().map(k -> k.name() + " " + k.type()).toList());
                s.execute("CREATE TABLE tgt (" + keyCols + ", doubled integer, label text, PRIMARY KEY ("
                        + String.join(", ", resolved.keyNames()) + "))");
            } else if (mode == Mode.IN_PLACE) {
                s.execute("ALTER TABLE src ADD COLUMN doubled integer, ADD COLUMN label text");
            }
            String keyExpr = kind == KeyKind.BIGINT
                    ? "CASE WHEN i < 2000 THEN i * 3 ELSE 1000000 + i::bigint * i END"
                    : "'r' || (i % 13), (i * 7)::integer";
            s.execute("INSERT INTO src (" + String.join(", ", resolved.keyNames()) + ", a, b) SELECT " + keyExpr
                    + ", (i * 37) % 1000, CASE WHEN i % 10 = 0 THEN NULL ELSE 'b' || i END FROM generate_series(0, "
                    + (rows - 1) + ") i");
        }
        catalog.create(migration, SpecJson.write(resolved.spec()), "test", "test");
        return this;
    }

    List<ChunkStore.Chunk> planAndPublish(String bootstrap) {
        List<ChunkStore.Chunk> plan = new ChunkPlanner(store).plan(resolved);
        new ChunkPublisher(bootstrap, 6).publish(migration, plan);
        return plan;
    }

    /**
     * The i-th key of this fixture's sequence (the rows {@link #create} inserts): sparse and skewed
     * for {@link KeyKind#BIGINT} — dense small ids, then a long sparse tail — and 13 regions for
     * {@link KeyKind#COMPOSITE}.
     */
    Key key(long i) {
        return switch (kind) {
            case BIGINT -> Key.of(i < 2000 ? i * 3 : 1_000_000 + i * i);
            case COMPOSITE -> Key.of("r" + (i % 13), Long.toString(i * 7));
            default -> throw new IllegalArgumentException("backfill tests have no " + kind + " keys");
        };
    }

    String keyWhere() {
        return KeyParams.where(kind);
    }

    int bindKey(PreparedStatement ps, int p, Key key) throws SQLException {
        return KeyParams.bind(ps, p, key);
    }

    /** Rows of the source whose key is in (lower, upper]. */
    long countInRange(Key lower, Key upper) throws SQLException {
        String tuple = "(" + String.join(", ", resolved.keyNames()) + ")";
        String params = "(" + String.join(", ", kind.columns.stream().map(k -> "?::" + k.type()).toList()) + ")";
        List<String> where = new ArrayList<>();
        if (lower != null) {
            where.add(tuple + " > " + params);
        }
        if (upper != null) {
            where.add(tuple + " <= " + params);
        }
        try (Connection c = db.connect("test"); PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM src"
                + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where)))) {
            int p = 1;
            if (lower != null) {
                p = bindKey(ps, p, lower);
            }
            if (upper != null) {
                bindKey(ps, p, upper);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Whether a < b in the key's own order (as PostgreSQL compares the typed tuple). */
    boolean less(Key a, Key b) throws SQLException {
        String params = "(" + String.join(", ", kind.columns.stream().map(k -> "?::" + k.type()).toList()) + ")";
        try (Connection c = db.connect("test"); PreparedStatement ps = c.prepareStatement(
                "SELECT ROW" + params + " < ROW" + params)) {
            bindKey(ps, bindKey(ps, 1, a), b);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Compares the target with transform(source) computed here, in Java. */
    RowCheck check() throws SQLException {
        Map<Key, List<Object>> expected = new HashMap<>();
        Map<Key, List<Object>> actual = new HashMap<>();
        ShapeRows.read(db, kind, mode, "a, b", "doubled, label",
                (k, rs, i) -> expected.put(k, ShapeRows.doubledAndLabel(rs.getInt(i), rs.getString(i + 1))),
                (k, rs, i) -> actual.put(k, ShapeRows.values(rs, i, 2)));
        ModelDiff d = ModelDiff.compare(expected, actual, got -> got.get(0).equals(ShapeRows.NULL) && mode == Mode.IN_PLACE);
        return RowCheck.of(d);
    }
}
