package dev.shapeshift.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The reverse sync (after the write switch, in place) under a concurrent write load on the new
 * shape — updates, inserts without the old columns, deletes and key changes — with a sync thread
 * refreshing the touched keys the way a worker does ({@link Refresher#sync} in worker transactions),
 * for integer, composite and uuid keys.
 *
 * <p>The check is independent: a Java model of what the writers wrote, with the reverse transforms
 * re-implemented in Java ({@code legacy = v / 10}; {@code name} kept when {@code upper(name) = tag},
 * else {@code lower(tag)}), compared row by row with the table. Negative control: the same load
 * with the sync left forward (the direction ignored, as a worker without the write switch would
 * do): the new shape the writers wrote is overwritten from the stale old shape and the check fails.
 */
@ExtendWith(PostgresExtension.class)
class ReverseRefreshIT {
    private static final int ROWS = 300;

    @ParameterizedTest(name = "{0} keys, reverse={1}")
    @CsvSource({"BIGINT, true", "COMPOSITE, true", "UUID, true", "BIGINT, false"})
    void reverseSyncKeepsTheOldShapeEqualToReverseOfNew(KeyKind kind, boolean reverse, PostgresServer pg)
            throws Exception {
        String dbName = pg.createDatabase("reverse_" + kind.name().toLowerCase(Locale.ROOT) + "_" + reverse);
        Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        String keyDdl = kind.ddl;
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE public.t (" + keyDdl + ", legacy integer, name text NOT NULL, v bigint, tag text)");
        }
        MigrationSpec spec = new SpecReader().read("t.yaml", """
                name: t-rev
                source:
                  table: t
                target:
                  columns:
                    - name: v
                      type: bigint
                      transform: legacy * 10
                    - name: tag
                      type: text
                      transform: upper(name)
                writes:
                  switch: true
                  reverse:
                    legacy: (v / 10)::integer
                    name: CASE WHEN upper(name) = tag THEN name ELSE lower(tag) END
                """);
        Model model = new Model();
        List<Column> keyCols = kind.columns;
        String keyNames = keyCols.stream().map(k -> Ident.quote(k.name())).collect(Collectors.joining(", "));
        String keyParams = keyCols.stream().map(k -> "?::" + k.type()).collect(Collectors.joining(", "));
        String keyWhere = keyCols.stream().map(k -> Ident.quote(k.name()) + " = ?::" + k.type()).collect(Collectors.joining(" AND "));
        try (Connection c = db.connect("test-seed");
             PreparedStatement ps = c.prepareStatement("INSERT INTO public.t (" + keyNames + ", legacy, name, v, tag) "
                     + "VALUES (" + keyParams + ", ?, ?, ?, ?)")) {
            for (long i = 0; i < ROWS; i++) {
                Key k = kind.key(i);
                int p = bind(ps, 1, k);
                int legacy = (int) i;
                String name = "Name" + i;
                ps.setInt(p++, legacy);
                ps.setString(p++, name);
                ps.setLong(p++, legacy * 10L);
                ps.setString(p, name.toUpperCase(Locale.ROOT));
                ps.executeUpdate();
                model.rows.put(k, new Old(legacy, name));
            }
        }
        ResolvedSpec resolved;
        try (Connection c = db.connect("test-seed")) {
            resolved = SpecValidator.resolveExpanded("t-rev", spec, c);
            c.createStatement().execute("INSERT INTO shapeshift.migration (name, spec, spec_source, phase, sync_direction"
                    + ") VALUES ('t-rev', '{}', '', 'writes-switched', '" + (reverse ? "reverse" : "forward")
                    + "')");
        }
        Refresher refresher = new Refresher(resolved);
        Set<Key> touched = ConcurrentHashMap.newKeySet();
        AtomicBoolean running = new AtomicBoolean(true);
        // The sync stops only once every writer has finished: a writer may still be committing its
        // last write (and naming its key) after `running` turned false.
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Thread> writers = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int seed = w;
            writers.add(new Thread(() -> {
                try {
                    write(db, kind, model, touched, running, seed, keyNames, keyParams, keyWhere);
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            }, "writer-" + w));
        }
        Thread sync = new Thread(() -> {
            WorkerTransactions tx = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);
            try (Connection c = db.connect("shapeshift-test-sync")) {
                while (writing.get() || !touched.isEmpty()) {
                    List<Key> batch = new ArrayList<>(touched);
                    touched.removeAll(batch);
                    if (!batch.isEmpty()) {
                        tx.run(c, "t-rev", t -> refresher.sync(t, batch));
                    }
                    Thread.sleep(3);
                }
            } catch (Throwable e) {
                synchronized (failures) {
                    failures.add(e);
                }
            }
        }, "sync");
        writers.forEach(Thread::start);
        sync.start();
        Thread.sleep(2500);
        running.set(false);
        for (Thread t : writers) {
            t.join();
        }
        writing.set(false);
        sync.join();
        assertThat(failures).isEmpty();

        Map<Key, Old> actual = oldShape(db, kind);
        Map<Key, Old> expected = model.expected();
        if (reverse) {
            assertThat(actual).as("old = reverse(new) for every key, as the writers' model says").isEqualTo(expected);
        } else {
            assertThat(actual).as("negative control: a forward sync after the write switch loses new-shape writes")
                    .isNotEqualTo(expected);
        }
    }

    private static void write(Database db, KeyKind kind, Model model, Set<Key> touched,
                              AtomicBoolean running, int seed, String keyNames, String keyParams, String keyWhere)
            throws SQLException, InterruptedException {
        Random random = new Random(seed * 7919L + kind.ordinal());
        long nextNew = 10_000L * (seed + 1);
        try (Connection c = db.connect("app-" + seed)) {
            while (running.get()) {
                int op = random.nextInt(20);
                synchronized (model) {
                    List<Key> keys = new ArrayList<>(model.rows.keySet());
                    Key k = keys.get(random.nextInt(keys.size()));
                    if (op < 12) {
                        long v = 10L * random.nextInt(100_000);
                        String tag = random.nextBoolean() ? "TAG" + random.nextInt(50) : model.current(k).name.toUpperCase(Locale.ROOT);
                        try (PreparedStatement ps = c.prepareStatement("UPDATE public.t SET v = ?, tag = ? WHERE " + keyWhere)) {
                            ps.setLong(1, v);
                            ps.setString(2, tag);
                            bind(ps, 3, k);
                            ps.executeUpdate();
                        }
                        model.writeNew(k, v, tag);
                        touched.add(k);
                    } else if (op < 16) {
                        Key k2 = kind.key(nextNew++);
                        long v = 10L * random.nextInt(1000);
                        String tag = "NEW" + random.nextInt(1000);
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO public.t (" + keyNames + ", v, tag, name) "
                                + "VALUES (" + keyParams + ", ?, ?, '')")) {
                            int p = bind(ps, 1, k2);
                            ps.setLong(p++, v);
                            ps.setString(p, tag);
                            ps.executeUpdate();
                        }
                        // name '' is a placeholder the reverse replaces (upper('') <> tag): new code writes only the new shape
                        model.rows.put(k2, new Old(0, ""));
                        model.writeNew(k2, v, tag);
                        touched.add(k2);
                    } else if (op < 18) {
                        try (PreparedStatement ps = c.prepareStatement("DELETE FROM public.t WHERE " + keyWhere)) {
                            bind(ps, 1, k);
                            ps.executeUpdate();
                        }
                        model.rows.remove(k);
                        touched.add(k);
                    } else {
                        Key k2 = kind.key(nextNew++);
                        String set = kind.columns.stream().map(col -> Ident.quote(col.name()) + " = ?::" + col.type())
                                .collect(Collectors.joining(", "));
                        try (PreparedStatement ps = c.prepareStatement("UPDATE public.t SET " + set + " WHERE " + keyWhere)) {
                            int p = bind(ps, 1, k2);
                            bind(ps, p, k);
                            ps.executeUpdate();
                        }
                        model.rows.put(k2, model.rows.remove(k));
                        touched.add(k);
                        touched.add(k2);
                    }
                }
                Thread.sleep(1);
            }
        }
    }

    private static int bind(PreparedStatement ps, int p, Key k) throws SQLException {
        for (String v : k.values()) {
            ps.setString(p++, v);
        }
        return p;
    }

    private static Map<Key, Old> oldShape(Database db, KeyKind kind) throws SQLException {
        Map<Key, Old> out = new HashMap<>();
        String keys = kind.columns.stream().map(k -> Ident.quote(k.name()) + "::text").collect(Collectors.joining(", "));
        try (Connection c = db.connect("test-check"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + keys + ", legacy, name FROM public.t")) {
            while (rs.next()) {
                String[] values = new String[kind.columns.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = rs.getString(i + 1);
                }
                out.put(Key.of(values), new Old(rs.getInt(values.length + 1), rs.getString(values.length + 2)));
            }
        }
        return out;
    }

    record Old(int legacy, String name) {
    }

    /** The old shape the writers' new-shape writes imply, by the reverse transforms re-implemented in Java. */
    static final class Model {
        final Map<Key, Old> rows = new HashMap<>();

        Old current(Key k) {
            return rows.get(k);
        }

        void writeNew(Key k, long v, String tag) {
            Old now = rows.get(k);
            String name = now.name.toUpperCase(Locale.ROOT).equals(tag) ? now.name : tag.toLowerCase(Locale.ROOT);
            rows.put(k, new Old((int) (v / 10), name));
        }

        synchronized Map<Key, Old> expected() {
            return new HashMap<>(rows);
        }
    }
}
