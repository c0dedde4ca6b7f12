package dev.shapeshift.coordinator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.reconcile.Differ.Comparison;
import dev.shapeshift.coordinator.reconcile.RunStore.Run;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.refresh.KeyRange;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.Reconcile;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecBuilder;
import dev.shapeshift.spec.TargetColumn;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * No phantom drift from types: numeric(10,2) fed by a numeric with more scale, varchar(20) fed by
 * longer text, timestamp(3) fed by a microsecond timestamptz, json written with other key order
 * and whitespace. Negative control: the same comparison without the cast to the target's types
 * reports every row.
 */
@ExtendWith(PostgresExtension.class)
class ReconcileNormalisationIT {
    @Test
    void typedTargetsShowNoPhantomDriftAndUncastComparisonWould(PostgresServer pg) throws Exception {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase("normalise")), pg.user(), pg.password());
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE src (id bigint PRIMARY KEY, price numeric, name text, at timestamptz, a int, b text)");
            s.execute("CREATE TABLE tgt (id bigint PRIMARY KEY, price numeric(10,2), name varchar(20), "
                    + "at timestamp(3), doc json)");
            s.execute("INSERT INTO src SELECT g, g / 7.0, 'name number ' || g || ' is rather long', "
                    + "timestamptz '2024-01-01 00:00:00.123456+00' + g * interval '1.000001 second', g % 100, 'b' || g "
                    + "FROM generate_series(1, 1000) g");
        }
        CatalogSchema.migrate(db);
        Catalog catalog = new Catalog(db, "test");
        catalog.create("normalise", "{}", "test", "test");
        ResolvedSpec typed = spec(List.of(new TargetColumn("price", "numeric(10,2)", "price / 3"),
                new TargetColumn("name", "varchar(20)", "upper(name)"),
                new TargetColumn("at", "timestamp(3)", "at"),
                new TargetColumn("doc", "json", "json_build_object('a', a, 'b', b)")));
        try (Connection c = db.connect("test")) {
            try (Statement s = c.createStatement()) {
                // The backfill's values, written by hand: Refresher cannot upsert json columns yet
                // (its IS DISTINCT FROM needs json = json, which PostgreSQL does not have).
                s.execute("INSERT INTO tgt SELECT id, (price / 3)::numeric(10,2), upper(name)::varchar(20), "
                        + "at::timestamp(3), json_build_object('a', a, 'b', b) FROM src");
            }
            try (Statement s = c.createStatement()) {
                // Same JSON value, other text: key order and whitespace differ.
                assertThat(s.executeUpdate("UPDATE tgt SET doc = ('{ \"b\" :  ' || to_json('b' || id)::text "
                        + "|| ',\"a\":' || (id % 100) || '}')::json WHERE id % 10 = 0")).isEqualTo(100);
            }

            Comparison first = Differ.create(c, typed).compare(c, KeyRange.ALL);
            assertThat(first.sourceRows()).isEqualTo(1000);
            assertThat(first.differences()).as("no phantom drift at first sight").isEmpty();

            ResolvedSpec untyped = spec(List.of(new TargetColumn("price", null, "price / 3"),
                    new TargetColumn("name", null, "upper(name)"),
                    new TargetColumn("at", null, "at")));
            Comparison naive = new Differ(untyped, Map.of()).compare(c, KeyRange.ALL);
            assertThat(naive.differences()).as("negative control: uncast comparison sees every row").hasSize(1000);
        }

        Run run = new Reconciler(catalog, "normalise", typed, SyncProgress.NO_SYNC, new SimpleMeterRegistry(),
                Reconciler.Options.from(new Reconcile(300, null, null, null))).runOnce(() -> false);
        assertThat(run.status()).isEqualTo("done");
        assertThat(run.rowsChecked()).isEqualTo(1000);
        assertThat(run.keysRechecked()).isZero();
        assertThat(run.driftFound()).isZero();
    }

    private static ResolvedSpec spec(List<TargetColumn> columns) {
        MigrationSpec spec = SpecBuilder.spec("normalise").source("public", "src", "id").mode(Mode.TABLE)
                .target("public", "tgt", columns).build();
        return new ResolvedSpec(spec, List.of(new Column("id", "bigint")), List.of(new Column("id", "bigint")));
    }
}
