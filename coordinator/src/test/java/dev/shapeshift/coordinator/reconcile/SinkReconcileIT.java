package dev.shapeshift.coordinator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.DriftStore;
import dev.shapeshift.catalog.DriftStore.Drift;
import dev.shapeshift.coordinator.reconcile.Repairer.RepairReport;
import dev.shapeshift.coordinator.reconcile.RunStore.Run;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeyRange;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkRow;
import dev.shapeshift.sinks.MemorySink;
import dev.shapeshift.sinks.SinkApplier;
import dev.shapeshift.sinks.SinkRefresh;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.Reconcile;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SinkTarget;
import dev.shapeshift.spec.SpecBuilder;
import dev.shapeshift.spec.Target;
import dev.shapeshift.spec.TargetColumn;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Reconcile of a sink-mode migration: transform(source) against what the memory test sink reads
 * back. Drift injected in the sink behind the system's back (a lost row, a changed row, a
 * tombstone for a live key, a row for a key the source never had) is reported with its kind, while
 * source changes the sync has not applied yet are lag (counted transient, never drift); the repair
 * re-applies through the sink, after which a Java model of the transform agrees.
 */
@ExtendWith(PostgresExtension.class)
class SinkReconcileIT {
    private static final String MIGRATION = "sink-reconcile";
    private static final int ROWS = 1000;

    @Test
    void reportsInjectedSinkDriftButNotLagAndRepairsThroughTheSink(PostgresServer pg) throws Exception {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase("sinkrec")), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        Catalog catalog = new Catalog(db, "test");
        catalog.create(MIGRATION, "{}", "test", "test");
        String storeName = "reconcile-" + System.nanoTime();
        MigrationSpec spec = SpecBuilder.spec(MIGRATION).source("public", "src", "id").mode(Mode.SINK)
                .target(new Target(null, null, List.of(new TargetColumn("doubled", "integer", "a * 2"),
                        new TargetColumn("label", null, "upper(b)")), null, null,
                        new SinkTarget("memory", Map.of("store", storeName)))).build();
        ResolvedSpec resolved = new ResolvedSpec(spec, List.of(new Column("id", "bigint")),
                List.of(new Column("id", "bigint"), new Column("a", "integer"), new Column("b", "text")));
        WorkerTransactions tx = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);
        SinkRefresh refresh = new SinkRefresh(resolved);
        MemorySink.Store store = MemorySink.store(storeName);
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             SinkApplier sink = SinkApplier.forMigration(resolved, SinkApplier.Listener.NONE, () -> false)) {
            s.execute("CREATE TABLE src (id bigint PRIMARY KEY, a integer NOT NULL, b text)");
            s.execute("INSERT INTO src SELECT g, g % 700, 'b' || g FROM generate_series(1, " + ROWS + ") g");
            s.execute("ANALYZE src");
            // the backfill, through the real path
            KeyRange range = KeyRange.ALL;
            while (true) {
                KeyRange current = range;
                SinkRefresh.RangeBatch b = tx.run(c, conn -> refresh.forRange(conn, current, 300));
                if (b.lastKey() == null) {
                    break;
                }
                sink.apply(b.rows());
                range = range.resumeAfter(b.lastKey());
            }

            // drift behind the system's back
            Map<Key, String> injected = new LinkedHashMap<>();
            store.remove(SinkKey.of("1"));
            injected.put(Key.of(1), "missing");
            SinkRow two = store.snapshot().get(SinkKey.of("2"));
            Map<String, String> changed = new LinkedHashMap<>(two.values());
            changed.put("label", "TAMPERED");
            store.put(SinkRow.upsert(two.key(), two.version(), changed));
            injected.put(Key.of(2), "different");
            store.put(SinkRow.tombstone(SinkKey.of("3"), 1));
            injected.put(Key.of(3), "missing");
            store.put(SinkRow.upsert(SinkKey.of("5000"), 1, Map.of("doubled", "0", "label", "GHOST")));
            injected.put(Key.of(5000), "extra");

            // lag: source changes the (in-test) sync applies only 1.5 s later
            s.execute("UPDATE src SET a = a + 1 WHERE id BETWEEN 100 AND 119");
            AtomicBoolean synced = new AtomicBoolean();
            Thread sync = new Thread(() -> {
                try (Connection sc = db.connect("sync")) {
                    Thread.sleep(1500);
                    List<Key> keys = new ArrayList<>();
                    for (long id = 100; id <= 119; id++) {
                        keys.add(Key.of(id));
                    }
                    List<SinkRow> rows = tx.run(sc, conn -> refresh.forKeys(conn, keys));
                    try (SinkApplier syncSink = SinkApplier.forMigration(resolved, SinkApplier.Listener.NONE, () -> false)) {
                        syncSink.apply(rows);
                    }
                    synced.set(true);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            sync.start();

            Reconciler reconciler = new Reconciler(catalog, MIGRATION, resolved, lsn -> synced.get(),
                    new SimpleMeterRegistry(), Reconciler.Options.from(new Reconcile(200, null, null, null))
                    .withRecheckAfter(Duration.ofMillis(300)).withSettleTimeout(Duration.ofSeconds(60)));
            Run run = reconciler.runOnce(() -> false);
            sync.join();
            DriftStore drift = new DriftStore(catalog);
            Map<Key, String> reported = new HashMap<>();
            for (Drift d : drift.page(MIGRATION, null, 1000)) {
                reported.put(d.key(), d.kind().label());
            }
            assertThat(run.status()).isEqualTo("done");
            assertThat(reported).as("exactly the injected keys, with their kinds").isEqualTo(injected);
            assertThat(run.transientKeys()).as("the 20 lagging keys differed at first sight, then agreed").isEqualTo(20);
            assertThat(model(c, store.live())).as("the Java model sees the same keys wrong").hasSize(injected.size());

            RepairReport report = new Repairer(catalog, resolved, tx).repair(MIGRATION, "tester", "sink drift test");
            assertThat(report.refreshed()).isEqualTo(injected.size());
            assertThat(report.resolved()).isEqualTo(injected.size());
            assertThat(report.stillDifferent()).isZero();
            assertThat(model(c, store.live())).as("independent check after repair").isEmpty();
            assertThat(drift.page(MIGRATION, null, 1000)).isEmpty();
            assertThat(reconciler.runOnce(() -> false).driftFound()).isZero();
        }
    }

    /** Keys where the sink's live rows differ from the Java model of the transform. */
    private static List<String> model(Connection c, Map<SinkKey, SinkRow> live) throws Exception {
        Map<SinkKey, List<String>> expected = new HashMap<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id::text, a, b FROM src")) {
            while (rs.next()) {
                String b = rs.getString(3);
                expected.put(SinkKey.of(rs.getString(1)), Arrays.asList(Integer.toString(rs.getInt(2) * 2),
                        b == null ? null : b.toUpperCase(Locale.ROOT)));
            }
        }
        List<String> wrong = new ArrayList<>();
        expected.forEach((k, v) -> {
            SinkRow got = live.get(k);
            if (got == null || !new ArrayList<>(got.values().values()).equals(v)) {
                wrong.add(k.toString());
            }
        });
        live.keySet().stream().filter(k -> !expected.containsKey(k)).forEach(k -> wrong.add(k + " (extra)"));
        return wrong;
    }
}
