package dev.shapeshift.refresh;

import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.db.Database;
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

/**
 * What the reverse sync's load tests share, in place ({@link ReverseRefreshIT}) and in table mode
 * ({@link ReverseTableRefreshIT}): the key SQL of a {@link KeyKind}, the application
 * after the write switch writing only the new shape ({@code v}, {@code tag}) — updates, inserts,
 * deletes and key changes, seeded — and the sync thread that refreshes the touched keys the way a
 * worker does ({@link Refresher#sync} in worker transactions) until the writers are done.
 */
final class ReverseLoad {
    private ReverseLoad() {
    }

    /**
     * The spec YAML from {@code target.columns} on: {@code v = legacy * 10}, {@code tag = upper(name)},
     * and the write switch with their reverse transforms.
     */
    static final String SPEC_COLUMNS = """
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
            """;

    /**
     * The model of what the writers wrote: the old shape {@code O} per live key, each test's own
     * (the reverse transforms re-implemented in Java). Writers change it under its lock.
     */
    abstract static class Model<O> {
        final Map<Key, O> rows = new HashMap<>();

        /** The old shape's {@code name} of a live key. */
        abstract String name(Key k);

        abstract void update(Key k, long v, String tag);

        abstract void insert(Key k, long v, String tag);

        abstract void delete(Key k);

        abstract void move(Key from, Key to);

        /** One write done (any of the above), under the model's lock. */
        void wrote() {
        }

        synchronized Map<Key, O> expected() {
            return new HashMap<>(rows);
        }
    }

    /** The key columns, quoted: {@code "region", "n"}. */
    static String names(KeyKind kind) {
        return kind.columns.stream().map(k -> Ident.quote(k.name())).collect(Collectors.joining(", "));
    }

    /** A placeholder per key column, cast to its type. */
    static String params(KeyKind kind) {
        return kind.columns.stream().map(k -> "?::" + k.type()).collect(Collectors.joining(", "));
    }

    /** {@code "region" = ?::text AND "n" = ?::integer}. */
    static String where(KeyKind kind) {
        return kind.columns.stream().map(k -> Ident.quote(k.name()) + " = ?::" + k.type()).collect(Collectors.joining(" AND "));
    }

    static int bind(PreparedStatement ps, int p, Key k) throws SQLException {
        for (String v : k.values()) {
            ps.setString(p++, v);
        }
        return p;
    }

    /** A row of a result set, its key columns read already (they come first, {@code n} of them). */
    interface Row<T> {
        T read(ResultSet rs, int n) throws SQLException;
    }

    /** {@code SELECT <key columns as text>, <columns> FROM <table>}, by key. */
    static <T> Map<Key, T> rows(Database db, KeyKind kind, String columns, String table, Row<T> row)
            throws SQLException {
        Map<Key, T> out = new HashMap<>();
        String keys = kind.columns.stream().map(k -> Ident.quote(k.name()) + "::text").collect(Collectors.joining(", "));
        try (Connection c = db.connect("test-check"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + keys + columns + " FROM " + table)) {
            while (rs.next()) {
                String[] values = new String[kind.columns.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = rs.getString(i + 1);
                }
                out.put(Key.of(values), row.read(rs, values.length));
            }
        }
        return out;
    }

    /**
     * Two writers ({@code writer} 0 and 1) write for 2.5 s while a sync thread refreshes the keys
     * they touched, in worker transactions marked {@code mark}; returns what failed.
     */
    static List<Throwable> writeWhileSyncing(Database db, Refresher refresher, String mark, Writer writer)
            throws InterruptedException {
        Set<Key> touched = ConcurrentHashMap.newKeySet();
        AtomicBoolean running = new AtomicBoolean(true);
        // The sync stops only once every writer has finished: a writer may still be committing its
        // last write (and naming its key) after `running` turned false.
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Throwable> failures = new ArrayList<>();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int n = w;
            writers.add(new Thread(() -> {
                try {
                    writer.write(n, touched, running);
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
                        tx.run(c, mark, t -> refresher.sync(t, batch));
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
        return failures;
    }

    /** One writer: writes until {@code running} turns false, naming each key it wrote in {@code touched}. */
    interface Writer {
        void write(int writer, Set<Key> touched, AtomicBoolean running) throws Exception;
    }

    /**
     * The application after the write switch, seeded with {@code seed}: writes only the new shape
     * in {@code table} — updates (12 in 20), inserts ({@code insert}: the key, v, tag), deletes and
     * key changes — each under the model's lock, then tells the model.
     */
    static void write(Database db, KeyKind kind, Model<?> model, Set<Key> touched, AtomicBoolean running,
                      int seed, String table, String insert) throws SQLException, InterruptedException {
        Random random = new Random(seed * 7919L + kind.ordinal());
        long nextNew = 10_000L * (seed + 1);
        String keyWhere = where(kind);
        try (Connection c = db.connect("app-" + seed)) {
            while (running.get()) {
                int op = random.nextInt(20);
                synchronized (model) {
                    List<Key> keys = new ArrayList<>(model.rows.keySet());
                    Key k = keys.get(random.nextInt(keys.size()));
                    if (op < 12) {
                        long v = 10L * random.nextInt(100_000);
                        String tag = random.nextBoolean() ? "TAG" + random.nextInt(50) : model.name(k).toUpperCase(Locale.ROOT);
                        try (PreparedStatement ps = c.prepareStatement("UPDATE " + table + " SET v = ?, tag = ? WHERE " + keyWhere)) {
                            ps.setLong(1, v);
                            ps.setString(2, tag);
                            bind(ps, 3, k);
                            ps.executeUpdate();
                        }
                        model.update(k, v, tag);
                        touched.add(k);
                    } else if (op < 16) {
                        Key k2 = kind.key(nextNew++);
                        long v = 10L * random.nextInt(1000);
                        String tag = "NEW" + random.nextInt(1000);
                        try (PreparedStatement ps = c.prepareStatement(insert)) {
                            int p = bind(ps, 1, k2);
                            ps.setLong(p++, v);
                            ps.setString(p, tag);
                            ps.executeUpdate();
                        }
                        model.insert(k2, v, tag);
                        touched.add(k2);
                    } else if (op < 18) {
                        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE " + keyWhere)) {
                            bind(ps, 1, k);
                            ps.executeUpdate();
                        }
                        model.delete(k);
                        touched.add(k);
                    } else {
                        Key k2 = kind.key(nextNew++);
                        String set = kind.columns.stream().map(col -> Ident.quote(col.name()) + " = ?::" + col.type())
                                .collect(Collectors.joining(", "));
                        try (PreparedStatement ps = c.prepareStatement("UPDATE " + table + " SET " + set + " WHERE " + keyWhere)) {
                            int p = bind(ps, 1, k2);
                            bind(ps, p, k);
                            ps.executeUpdate();
                        }
                        model.move(k, k2);
                        touched.add(k);
                        touched.add(k2);
                    }
                    model.wrote();
                }
                Thread.sleep(1);
            }
        }
    }
}
