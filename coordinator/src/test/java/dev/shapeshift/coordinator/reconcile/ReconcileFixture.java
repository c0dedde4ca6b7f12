package dev.shapeshift.coordinator.reconcile;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.DriftStore;
import dev.shapeshift.catalog.DriftStore.Drift;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.fixtures.ShapeRows;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeyRange;
import dev.shapeshift.refresh.RefreshResult;
import dev.shapeshift.refresh.Refresher;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.Reconcile;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecBuilder;
import dev.shapeshift.spec.TargetColumn;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code src(<key>, a integer, b text)} and the new shape {@code doubled = a * 2},
 * {@code label = upper(b)}, in a table {@code tgt} or in place; a write load on the source and an
 * in-test sync that refreshes the written keys after a lag and reports how far it has applied.
 *
 * <p>The in-test sync: every write enqueues its key before it commits (and again after). The sync
 * reads {@code pg_current_wal_lsn()}, drains the queue, refreshes the keys, and only then reports
 * that LSN as applied: every write committed before that LSN had its key in the drained queue, and
 * the refresh read it. {@link #check} is the independent model: transform(source) computed in Java.
 */
final class ReconcileFixture implements AutoCloseable {
    static final String MIGRATION = "reconcile-test";

    final Database db;
    final Catalog catalog;
    final KeyKind kind;
    final Mode mode;
    final ResolvedSpec resolved;
    final Refresher refresher;
    final WorkerTransactions tx = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);

    private final ConcurrentLinkedQueue<Key> changed = new ConcurrentLinkedQueue<>();
    private final AtomicReference<String> appliedLsn = new AtomicReference<>("0/0");
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean syncing = new AtomicBoolean();
    private final AtomicBoolean syncHeld = new AtomicBoolean();
    private final AtomicLong writes = new AtomicLong();
    private final List<Thread> writers = new ArrayList<>();
    private final List<Thread> syncers = new ArrayList<>();

    ReconcileFixture(PostgresServer pg, KeyKind kind, Mode mode) throws SQLException {
        this.db = new Database(pg.jdbcUrl(pg.createDatabase("reconcile")), pg.user(), pg.password());
        this.kind = kind;
        this.mode = mode;
        List<TargetColumn> columns = List.of(new TargetColumn("doubled", "integer", "a * 2"),
                new TargetColumn("label", "text", "upper(b)"));
        List<String> keyNames = kind.columns.stream().map(Column::name).toList();
        MigrationSpec spec = SpecBuilder.spec(MIGRATION).source("public", "src", keyNames).mode(mode)
                .target("public", mode == Mode.TABLE ? "tgt" : null, columns).build();
        List<Column> sourceColumns = new ArrayList<>(kind.columns);
        sourceColumns.addAll(List.of(new Column("a", "integer"), new Column("b", "text")));
        this.resolved = new ResolvedSpec(spec, kind.columns, sourceColumns);
        this.refresher = new Refresher(resolved);
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE src (" + kind.ddl + ", a integer NOT NULL, b text)");
            if (mode == Mode.TABLE) {
                String keyCols = String.join(", ", kind.columns.stream().map(k -> k.name() + " " + k.type()).toList());
                s.execute("CREATE TABLE tgt (" + keyCols + ", doubled integer, label text, PRIMARY KEY ("
                        + String.join(", ", keyNames) + "))");
            } else {
                s.execute("ALTER TABLE src ADD COLUMN doubled integer, ADD COLUMN label text");
            }
        }
        CatalogSchema.migrate(db);
        this.catalog = new Catalog(db, "test");
        catalog.create(MIGRATION, "{}", "test", "test");
    }

    /** {@code rows} source rows, copied to the new shape (a backfill), then analyzed. */
    void populate(int rows) throws SQLException {
        Random r = new Random(7);
        try (Connection c = db.connect("test")) {
            c.setAutoCommit(false);
            for (int i = 0; i < rows; i++) {
                insert(c, kind.key(i), r.nextInt(1000), "b" + r.nextInt(100_000));
            }
            c.commit();
            c.setAutoCommit(true);
            KeyRange range = KeyRange.ALL;
            while (true) {
                KeyRange current = range;
                RefreshResult res = tx.run(c, conn -> refresher.refreshRange(conn, current, 1000));
                if (res.lastKey() == null) {
                    break;
                }
                range = range.resumeAfter(res.lastKey());
            }
            try (Statement s = c.createStatement()) {
                s.execute("ANALYZE src");
            }
        }
    }

    void insert(Connection c, Key key, int a, String b) throws SQLException {
        String cols = String.join(", ", kind.columns.stream().map(Column::name).toList());
        String params = String.join(", ", kind.columns.stream().map(k -> "?::" + k.type()).toList());
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO src (" + cols + ", a, b) VALUES (" + params + ", ?, ?)")) {
            int p = bindKey(ps, 1, key);
            ps.setInt(p++, a);
            ps.setString(p, b);
            ps.executeUpdate();
        }
    }

    /** Runs {@code sql + " WHERE <key> = ?"} with leading parameters, then the key. */
    int execForKey(Connection c, String table, String sqlBeforeWhere, Key key, Object... leading) throws SQLException {
        String where = String.join(" AND ", kind.columns.stream().map(k -> k.name() + " = ?::" + k.type()).toList());
        try (PreparedStatement ps = c.prepareStatement(sqlBeforeWhere.replace("{t}", table) + " WHERE " + where)) {
            int p = 1;
            for (Object o : leading) {
                ps.setObject(p++, o);
            }
            bindKey(ps, p, key);
            return ps.executeUpdate();
        }
    }

    /** Inserts a target row for a key no source row has (table mode). */
    void insertTarget(Connection c, Key key, int doubled, String label) throws SQLException {
        String cols = String.join(", ", kind.columns.stream().map(Column::name).toList());
        String params = String.join(", ", kind.columns.stream().map(k -> "?::" + k.type()).toList());
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO tgt (" + cols + ", doubled, label) VALUES ("
                + params + ", ?, ?)")) {
            int p = bindKey(ps, 1, key);
            ps.setInt(p++, doubled);
            ps.setString(p, label);
            ps.executeUpdate();
        }
    }

    private int bindKey(PreparedStatement ps, int p, Key key) throws SQLException {
        for (String v : key.values()) {
            ps.setString(p++, v);
        }
        return p;
    }

    /**
     * Starts the write load (updates, deletes and inserts on {@code keys}, and inserts of new keys
     * from index {@code firstNew}) and the in-test sync with the given lag.
     */
    void startLoad(List<Key> keys, long firstNew, long syncLagMillis, long pauseMillis) {
        running.set(true);
        syncing.set(true);
        Random r = new Random(11);
        AtomicLong next = new AtomicLong(firstNew);
        List<Key> live = new ArrayList<>(keys);
        startWriter("reconcile-load", "load", "test-app", pauseMillis, c -> {
            int op = r.nextInt(10);
            Key k;
            if (op < 7 && !live.isEmpty()) {
                k = live.get(r.nextInt(live.size()));
                changed.add(k);
                execForKey(c, "src", "UPDATE src SET a = ?, b = ?", k, r.nextInt(1000), "u" + r.nextInt(100_000));
            } else if (op < 8 && !live.isEmpty()) {
                k = live.remove(r.nextInt(live.size()));
                changed.add(k);
                execForKey(c, "src", "DELETE FROM src", k);
            } else {
                k = kind.key(next.getAndIncrement());
                live.add(k);
                changed.add(k);
                insert(c, k, r.nextInt(1000), "n" + r.nextInt(100_000));
            }
            return k;
        });
        Thread syncer = new Thread(() -> {
            try (Connection c = db.connect("test-sync")) {
                while (syncing.get()) {
                    Thread.sleep(syncLagMillis);
                    if (!syncHeld.get()) {
                        syncOnce(c);
                    }
                }
                syncOnce(c);
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException("sync failed", e);
            }
        }, "reconcile-sync");
        syncers.add(syncer);
        syncer.start();
    }

    /** One transaction of a writer: enqueues its key for the sync, writes it, returns the key. */
    private interface Write {
        Key write(Connection c) throws SQLException;
    }

    /**
     * A writer thread on its own connection: {@code write} a transaction at a time, committed, its
     * key enqueued again, then a pause of {@code pauseMillis}; it stops with the load.
     */
    private void startWriter(String threadName, String what, String application, long pauseMillis, Write write) {
        Thread writer = new Thread(() -> {
            try (Connection c = db.connect(application)) {
                c.setAutoCommit(false);
                while (running.get()) {
                    Key k = write.write(c);
                    c.commit();
                    changed.add(k);
                    writes.incrementAndGet();
                    Thread.sleep(pauseMillis);
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(what + " failed", e);
            }
        }, threadName);
        writers.add(writer);
        writer.start();
    }

    private void syncOnce(Connection c) throws SQLException {
        String lsn;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            lsn = rs.getString(1);
        }
        Set<Key> batch = new HashSet<>();
        for (Key k; (k = changed.poll()) != null; ) {
            batch.add(k);
        }
        if (!batch.isEmpty()) {
            tx.run(c, conn -> refresher.refresh(conn, batch));
        }
        appliedLsn.set(lsn);
    }

    /** Reconcile options: ranges of {@code rangeRows} keys, the spec's defaults for the rest. */
    static Reconciler.Options options(int rangeRows) {
        return Reconciler.Options.from(new Reconcile(rangeRows, null, null, null));
    }

    /** A reconciler of this fixture's migration; {@code sync} says how far the sync has applied. */
    Reconciler reconciler(SyncProgress sync, MeterRegistry registry, Reconciler.Options options) {
        return new Reconciler(catalog, MIGRATION, resolved, sync, registry, options);
    }

    /** The open drift the reconciler stored (its first 1000 keys): key and kind. */
    Map<Key, String> reportedDrift() {
        Map<Key, String> reported = new HashMap<>();
        for (Drift d : new DriftStore(catalog).page(MIGRATION, null, 1000)) {
            reported.put(d.key(), d.kind().label());
        }
        return reported;
    }

    /** What the in-test sync has applied. */
    SyncProgress syncProgress() {
        return lsn -> SyncProgress.position(appliedLsn.get()) >= SyncProgress.position(lsn);
    }

    /**
     * Holds the simulated sync (the load goes on) until at least {@code writes} more source writes
     * have committed, and keeps it held: the target then lags the source for certain, whatever the
     * machine's load. The sync applies everything again when the fixture stops.
     */
    void holdSyncFor(long moreWrites) throws InterruptedException {
        syncHeld.set(true);
        long until = writes.get() + moreWrites;
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (writes.get() < until && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    long writes() {
        return writes.get();
    }

    /** A second writer that updates one key every {@code pauseMillis} (a hot key); stops with the load. */
    void startHotWriter(Key key, long pauseMillis) {
        Random r = new Random(13);
        startWriter("reconcile-hot", "hot writer", "test-app-hot", pauseMillis, c -> {
            changed.add(key);
            execForKey(c, "src", "UPDATE src SET a = ?", key, r.nextInt(1000));
            return key;
        });
    }

    /** Stops the writers, then lets the sync drain and stop. */
    void stopLoad() throws InterruptedException {
        running.set(false);
        for (Thread t : writers) {
            t.join(30_000);
        }
        syncHeld.set(false);
        syncing.set(false);
        for (Thread t : syncers) {
            t.join(30_000);
        }
        writers.clear();
        syncers.clear();
    }

    /** Keys whose new shape differs from transform(source) computed here, in Java, with the kind. */
    Map<Key, String> check() throws SQLException {
        Map<Key, List<Object>> expected = new HashMap<>();
        Map<Key, List<Object>> actual = new HashMap<>();
        ShapeRows.read(db, kind, mode, "a, b", "doubled, label", (k, rs, i) -> {
            String b = rs.getString(i + 1);
            expected.put(k, values(rs.getInt(i) * 2, b == null ? null : b.toUpperCase(Locale.ROOT)));
        }, (k, rs, i) -> actual.put(k, values(rs.getObject(i), rs.getString(i + 1))));
        Map<Key, String> out = new HashMap<>();
        for (var e : expected.entrySet()) {
            List<Object> got = actual.get(e.getKey());
            if (got == null) {
                out.put(e.getKey(), "missing");
            } else if (!Objects.equals(got, e.getValue())) {
                out.put(e.getKey(), "different");
            }
        }
        for (Key k : actual.keySet()) {
            if (!expected.containsKey(k)) {
                out.put(k, "extra");
            }
        }
        return out;
    }

    private static List<Object> values(Object doubled, String label) {
        List<Object> v = new ArrayList<>();
        v.add(doubled == null ? null : ((Number) doubled).intValue());
        v.add(label);
        return v;
    }

    @Override
    public void close() throws InterruptedException {
        stopLoad();
    }
}
