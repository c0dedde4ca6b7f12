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
import dev.shapeshift.spec.SpecProblem;
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
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The reverse sync in table mode (after the write switch the application writes only the new
 * table {@code s_v2}; the sync keeps the old table {@code s} equal to reverse(new, old)) under a
 * concurrent write load on the new table — updates, inserts, deletes and key changes — with a sync
 * thread refreshing the touched keys the way a worker does ({@link Refresher#sync} in worker
 * transactions), for integer, composite and uuid keys and two writer seeds each.
 *
 * <p>The check is independent: a Java model of what the writers wrote, with the reverse transforms
 * re-implemented in Java ({@code legacy = v / 10}; {@code name} kept when {@code upper(name) = tag},
 * else {@code lower(tag)}; {@code note}, which has no reverse, keeps its value or takes its default
 * on insert), compared row by row with the old table. Negative control: the same load with the sync
 * left forward (as a worker without the write switch would run it): the new table is overwritten
 * from the stale old table, the old table never sees the writes, and the check fails.
 */
@ExtendWith(PostgresExtension.class)
class ReverseTableRefreshIT {
    private static final int ROWS = 300;
    private static final String SPEC = """
            name: %s
            source:
              table: s
            mode: table
            target:
              table: s_v2
              columns:
            """ + ReverseLoad.SPEC_COLUMNS;

    @ParameterizedTest(name = "{0} keys, seed {2}, reverse={1}")
    @CsvSource({"BIGINT, true, 1", "BIGINT, true, 2", "COMPOSITE, true, 1", "COMPOSITE, true, 2", "UUID, true, 1",
            "UUID, true, 2", "BIGINT, false, 1", "COMPOSITE, false, 1", "UUID, false, 1"})
    void reverseSyncKeepsTheOldTableEqualToReverseOfNew(KeyKind kind, boolean reverse, int seed,
                                                       PostgresServer pg) throws Exception {
        String name = "trev-" + kind.name().toLowerCase(Locale.ROOT).replace('_', '-') + "-" + reverse + "-" + seed;
        Database db = database(pg, name.replace('-', '_'), kind);
        Model model = new Model();
        seed(db, kind, model);
        ResolvedSpec resolved = resolve(db, name, reverse ? "reverse" : "forward", "writes-switched");
        Refresher refresher = new Refresher(resolved);
        String insert = "INSERT INTO public.s_v2 (" + keyNames(kind) + ", v, tag) VALUES (" + keyParams(kind) + ", ?, ?)";
        List<Throwable> failures = ReverseLoad.writeWhileSyncing(db, refresher, WorkerTransactions.echoMark(resolved),
                (writer, touched, running) -> ReverseLoad.write(db, kind, model, touched, running, seed * 31 + writer,
                        "public.s_v2", insert));
        assertThat(failures).isEmpty();
        assertThat(model.writes).as("the load wrote").isGreaterThan(100);

        Map<Key, Old> actual = oldTable(db, kind);
        Map<Key, Old> expected = model.expected();
        if (reverse) {
            assertThat(newTableKeys(db, kind)).as("the new table holds the writers' keys").isEqualTo(expected.keySet());
            Map<Key, String> wrong = new java.util.TreeMap<>(java.util.Comparator.comparing(Key::toString));
            expected.forEach((k, v) -> {
                if (!v.equals(actual.get(k))) {
                    wrong.put(k, "expected " + v + ", old table " + actual.get(k) + ", history " + model.history.get(k));
                }
            });
            actual.keySet().stream().filter(k -> !expected.containsKey(k)).forEach(k -> wrong.put(k, "extra " + actual.get(k)
                    + ", history " + model.history.get(k)));
            assertThat(wrong).as("keys where old table <> reverse(new, old), as the writers' model says").isEmpty();
        } else {
            assertThat(actual).as("negative control: a forward sync after the write switch loses new-table writes")
                    .isNotEqualTo(expected);
        }
    }

    /**
     * The race the reverse's row lock prevents, made deterministic: refresh R1 reads new row k
     * (v = 70, as seeded) and pauses before it writes; the application sets v = 20; refresh R2
     * (for that write's event) writes legacy = 2; then R1 writes. With the lock ({@code FOR SHARE}
     * on the new rows) the application's write waits for R1, so R2 writes last and legacy = 2 =
     * reverse(20). Negative control, the lock removed: R1 writes its stale legacy = 7 over R2's.
     */
    @ParameterizedTest(name = "row lock on the new rows: {0}")
    @CsvSource({"true", "false"})
    void aRefreshThatReadBeforeAnApplicationWriteNeverWritesAfterTheNextRefresh(boolean locked, PostgresServer pg)
            throws Exception {
        KeyKind kind = KeyKind.BIGINT;
        String name = "trev-race-" + locked;
        Database db = database(pg, name.replace('-', '_'), kind);
        seed(db, kind, new Model());
        ResolvedSpec resolved = resolve(db, name, "reverse", "writes-switched");
        Key k = kind.key(7);
        Guards slow = locked ? Guards.SYNC.withPause(java.time.Duration.ofMillis(1500))
                : new Guards(Guards.RowLock.NONE, Guards.OnConflict.UPDATE_IF_DISTINCT, Guards.Fence.NONE,
                        java.time.Duration.ofMillis(1500));
        Refresher r1 = new Refresher(resolved, slow, Guards.BACKFILL);
        Refresher r2 = new Refresher(resolved);
        WorkerTransactions tx = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);
        List<Throwable> failures = new ArrayList<>();
        Thread first = new Thread(() -> {
            try (Connection c = db.connect("shapeshift-r1")) {
                tx.run(c, WorkerTransactions.echoMark(resolved), t -> r1.reverse(t, List.of(k)));
            } catch (Throwable e) {
                synchronized (failures) {
                    failures.add(e);
                }
            }
        }, "r1");
        first.start();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> Backends.sleeping(db));
        try (Connection c = db.connect("app"); Statement s = c.createStatement()) {
            s.execute("UPDATE s_v2 SET v = 20 WHERE " + where(kind, k)); // waits for R1 when it holds FOR SHARE
        }
        try (Connection c = db.connect("shapeshift-r2")) {
            tx.run(c, WorkerTransactions.echoMark(resolved), t -> r2.reverse(t, List.of(k)));
        }
        first.join();
        assertThat(failures).isEmpty();
        int legacy = oldTable(db, kind).get(k).legacy();
        if (locked) {
            assertThat(legacy).as("legacy = reverse(v = 20)").isEqualTo(2);
        } else {
            assertThat(legacy).as("negative control: without the lock R1's stale value lands last").isEqualTo(7);
        }
    }

    /** Whether a backend of the test sleeps in a refresh's pause (R1 has read and waits to write). */
    private static final class Backends {
        static boolean sleeping(Database db) throws SQLException {
            try (Connection c = db.connect("test-check"); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                         + "AND datname = current_database()")) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }

    /** While the application dual-writes, the forward sync records keys whose new row differs from transform(old). */
    @Test
    void dualWriteMismatchesAreRecordedBeforeTheForwardSyncCorrectsThem(PostgresServer pg) throws Exception {
        KeyKind kind = KeyKind.COMPOSITE;
        Database db = database(pg, "trev_dual", kind);
        seed(db, kind, new Model());
        ResolvedSpec resolved = resolve(db, "trev-dual", "forward", "dual-writes");
        Key same = kind.key(1);
        Key differs = kind.key(2);
        Key noNewRow = kind.key(3);
        Key noOldRow = kind.key(4);
        try (Connection c = db.connect("app"); Statement s = c.createStatement()) {
            s.execute("UPDATE s_v2 SET tag = 'OTHER' WHERE " + where(kind, differs));
            s.execute("DELETE FROM s_v2 WHERE " + where(kind, noNewRow));
            s.execute("DELETE FROM s WHERE " + where(kind, noOldRow));
        }
        Refresher refresher = new Refresher(resolved);
        WorkerTransactions tx = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);
        Refresher.SyncResult r;
        try (Connection c = db.connect("shapeshift-test-sync")) {
            r = tx.run(c, WorkerTransactions.echoMark(resolved), t -> refresher.sync(t, List.of(same, differs, noNewRow, noOldRow)));
        }
        assertThat(r.direction()).isEqualTo(SyncDirection.FORWARD);
        assertThat(r.mismatches()).isEqualTo(3);
        Map<String, String> recorded = new HashMap<>();
        try (Connection c = db.connect("test-check"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT key::text, written, expected FROM shapeshift.write_mismatch "
                     + "WHERE migration = 'trev-dual'")) {
            while (rs.next()) {
                recorded.put(rs.getString(1), rs.getString(2) + "/" + rs.getString(3));
            }
        }
        assertThat(recorded).containsOnlyKeys(json(differs), json(noNewRow), json(noOldRow));
        assertThat(recorded.get(json(noNewRow))).startsWith("absent/").doesNotEndWith("/absent");
        assertThat(recorded.get(json(noOldRow))).endsWith("/absent").doesNotStartWith("absent/");
        assertThat(newTableKeys(db, kind)).as("then corrected forward").isEqualTo(oldTable(db, kind).keySet())
                .contains(noNewRow).doesNotContain(noOldRow);
    }

    /**
     * The round trip transform(reverse(new, old)) = new over the live rows, chunk by chunk (3 rows a
     * chunk, so the offending keys fall in different chunks), names exactly the rows where it fails.
     */
    @Test
    void roundTripNamesTheRowsWhereReverseDoesNotRoundTrip(PostgresServer pg) throws Exception {
        KeyKind kind = KeyKind.UUID;
        Database db = database(pg, "trev_round", kind);
        seed(db, kind, new Model());
        ResolvedSpec resolved = resolve(db, "trev-round", "forward", "dual-writes");
        Key lowerTag = kind.key(5);
        Key oddV = kind.key(6);
        Key onlyNew = kind.key(7);
        try (Connection c = db.connect("app"); Statement s = c.createStatement()) {
            s.execute("UPDATE s_v2 SET tag = 'abc' WHERE " + where(kind, lowerTag)); // upper(lower('abc')) <> 'abc'
            s.execute("UPDATE s_v2 SET v = 15 WHERE " + where(kind, oddV));          // (15 / 10) * 10 <> 15
            s.execute("DELETE FROM s WHERE " + where(kind, onlyNew));                // reversed from NULL old values: fine
        }
        List<String> columns = List.of("id", "legacy", "name", "note");
        RefreshSql sql = new RefreshSql(resolved, Guards.SYNC);
        List<String> chunks = new ArrayList<>();
        assertThat(roundTrip(db, sql, columns, 3, Integer.MAX_VALUE, chunks))
                .containsExactlyInAnyOrder("[" + lowerTag.get(0) + "]", "[" + oddV.get(0) + "]");
        assertThat(chunks.size()).as("rows per chunk " + chunks).isGreaterThan(2);
        assertThat(roundTrip(db, sql, columns, 1, 1, new ArrayList<>()).size()).isLessThanOrEqualTo(1);
    }

    /** An old column the reverse sync cannot fill on insert (NOT NULL, no default, no reverse) is named by validation. */
    @Test
    void validationNamesOldColumnsAReverseInsertCannotFill(PostgresServer pg) throws Exception {
        Database db = database(pg, "trev_required", KeyKind.BIGINT);
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("ALTER TABLE s ADD COLUMN must text NOT NULL"); // the table is empty
        }
        MigrationSpec spec = new SpecReader().read("t.yaml", SPEC.formatted("trev-required"));
        List<SpecProblem> problems;
        try (Connection c = db.connect("test-seed")) {
            problems = SpecValidator.check(spec, c).problems();
        }
        assertThat(problems).anySatisfy(p -> {
            assertThat(p.path()).isEqualTo("writes.reverse");
            assertThat(p.message()).contains("must").contains("NOT NULL without a default").doesNotContain("note");
        });
    }

    private static Database database(PostgresServer pg, String name, KeyKind kind) throws SQLException {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase(name)), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE public.s (" + kind.ddl + ", legacy integer, name text NOT NULL, "
                    + "note text NOT NULL DEFAULT 'kept')");
            s.execute("CREATE TABLE public.s_v2 (" + kind.ddl + ", v bigint, tag text)");
        }
        return db;
    }

    private static void seed(Database db, KeyKind kind, Model model) throws SQLException {
        String keyNames = keyNames(kind);
        try (Connection c = db.connect("test-seed");
             PreparedStatement old = c.prepareStatement("INSERT INTO public.s (" + keyNames + ", legacy, name, note) "
                     + "VALUES (" + keyParams(kind) + ", ?, ?, ?)");
             PreparedStatement neu = c.prepareStatement("INSERT INTO public.s_v2 (" + keyNames + ", v, tag) "
                     + "VALUES (" + keyParams(kind) + ", ?, ?)")) {
            for (long i = 0; i < ROWS; i++) {
                Key k = kind.key(i);
                String name = "Name" + i;
                int p = bind(old, 1, k);
                old.setInt(p++, (int) i);
                old.setString(p++, name);
                old.setString(p, "n" + i);
                old.executeUpdate();
                p = bind(neu, 1, k);
                neu.setLong(p++, i * 10L);
                neu.setString(p, name.toUpperCase(Locale.ROOT));
                neu.executeUpdate();
                model.seed(k, (int) i, name, "n" + i);
            }
        }
    }

    private static ResolvedSpec resolve(Database db, String name, String direction, String phase) throws SQLException {
        MigrationSpec spec = new SpecReader().read("t.yaml", SPEC.formatted(name));
        try (Connection c = db.connect("test-seed")) {
            ResolvedSpec resolved = SpecValidator.resolveExpanded(name, spec, c);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.migration (name, spec, spec_source, "
                    + "phase, sync_direction) VALUES (?, '{}', '', ?, ?)")) {
                ps.setString(1, name);
                ps.setString(2, phase);
                ps.setString(3, direction);
                ps.executeUpdate();
            }
            return resolved;
        }
    }

    private static String keyNames(KeyKind kind) {
        return ReverseLoad.names(kind);
    }

    private static String keyParams(KeyKind kind) {
        return ReverseLoad.params(kind);
    }

    private static String where(KeyKind kind, Key k) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < kind.columns.size(); i++) {
            Column col = kind.columns.get(i);
            parts.add(Ident.quote(col.name()) + " = '" + k.get(i) + "'::" + col.type());
        }
        return String.join(" AND ", parts);
    }

    private static String json(Key k) {
        return k.values().stream().map(v -> "\"" + v + "\"").collect(Collectors.joining(", ", "[", "]"));
    }

    private static int bind(PreparedStatement ps, int p, Key k) throws SQLException {
        return ReverseLoad.bind(ps, p, k);
    }

    /** Runs the round trip chunk by chunk from the first key: up to {@code maxRows} rows, {@code chunkRows} a chunk. */
    private static List<String> roundTrip(Database db, RefreshSql sql, List<String> columns, int chunkRows, int maxRows,
                                          List<String> chunks) throws SQLException {
        List<String> out = new ArrayList<>();
        String[] after = null;
        int checked = 0;
        try (Connection c = db.connect("test-check")) {
            while (checked < maxRows) {
                int limit = Math.min(chunkRows, maxRows - checked);
                try (PreparedStatement ps = c.prepareStatement(sql.roundTripChunk(columns, after != null))) {
                    int p = 1;
                    for (String v : after == null ? new String[0] : after) {
                        ps.setString(p++, v);
                    }
                    ps.setInt(p++, limit);
                    ps.setInt(p, 100);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        long rows = rs.getLong(1);
                        if (rows == 0) {
                            return out;
                        }
                        chunks.add(String.valueOf(rows));
                        checked += (int) rows;
                        after = (String[]) rs.getArray(2).getArray();
                        out.addAll(java.util.Arrays.asList((String[]) rs.getArray(3).getArray()));
                    }
                }
            }
        }
        return out;
    }

    private static Map<Key, Old> oldTable(Database db, KeyKind kind) throws SQLException {
        return ReverseLoad.rows(db, kind, ", legacy, name, note", "public.s",
                (rs, n) -> new Old(rs.getInt(n + 1), rs.getString(n + 2), rs.getString(n + 3)));
    }

    private static Set<Key> newTableKeys(Database db, KeyKind kind) throws SQLException {
        return new java.util.HashSet<>(ReverseLoad.rows(db, kind, "", "public.s_v2", (rs, n) -> Boolean.TRUE).keySet());
    }

    record Old(int legacy, String name, String note) {
    }

    record New(long v, String tag) {
    }

    /**
     * What the writers wrote to the new table, and the old table that implies by the reverse
     * transforms re-implemented in Java.
     */
    static final class Model extends ReverseLoad.Model<Old> {
        final Map<Key, New> news = new HashMap<>();
        /** What happened to each key, for a failure message. */
        final Map<Key, List<String>> history = new HashMap<>();
        long writes;

        private void log(Key k, String what) {
            history.computeIfAbsent(k, x -> new ArrayList<>()).add(what);
        }

        void seed(Key k, int legacy, String name, String note) {
            rows.put(k, new Old(legacy, name, note));
            news.put(k, new New(legacy * 10L, name.toUpperCase(Locale.ROOT)));
        }

        @Override
        String name(Key k) {
            return rows.get(k).name;
        }

        @Override
        void wrote() {
            writes++;
        }

        /** An update of the new row: legacy from v, name kept while it still maps to the tag, note kept. */
        @Override
        void update(Key k, long v, String tag) {
            Old now = rows.get(k);
            String name = now.name.toUpperCase(Locale.ROOT).equals(tag) ? now.name : tag.toLowerCase(Locale.ROOT);
            rows.put(k, new Old((int) (v / 10), name, now.note));
            news.put(k, new New(v, tag));
            log(k, "update " + v + "/" + tag);
        }

        /** A new row with no old row: name from the tag (the current old name is NULL), note its default. */
        @Override
        void insert(Key k, long v, String tag) {
            news.put(k, new New(v, tag));
            rows.put(k, new Old((int) (v / 10), tag.toLowerCase(Locale.ROOT), "kept"));
            log(k, "insert " + v + "/" + tag);
        }

        @Override
        void delete(Key k) {
            rows.remove(k);
            news.remove(k);
            log(k, "delete");
        }

        /** A key change of the new row: the old row of the old key goes, the new key's is inserted. */
        @Override
        void move(Key from, Key to) {
            New moved = news.get(from);
            log(from, "moved to " + to);
            log(to, "moved from " + from);
            delete(from);
            insert(to, moved.v, moved.tag);
        }

    }
}
