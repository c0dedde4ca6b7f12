package dev.shapeshift.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.fixtures.KeyShapes;
import dev.shapeshift.fixtures.RowCheck;
import dev.shapeshift.spec.Mode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** What refresh does, one operation at a time, for every key kind and both modes. */
@ExtendWith(PostgresExtension.class)
class RefreshIT {
    private final PostgresServer pg;
    /** One per test: JUnit makes an instance of the class per test method. */
    private final WorkerTransactions tx = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);

    RefreshIT(PostgresServer pg) {
        this.pg = pg;
    }

    static List<Arguments> shapes() {
        return KeyShapes.sparseInPlaceAndTable(); // sinks: SinkRaceIT
    }

    private RefreshFixture fixture(KeyKind kind, Mode mode) throws SQLException {
        String name = pg.createDatabase("refresh");
        RefreshFixture f = new RefreshFixture(new Database(pg.jdbcUrl(name), pg.user(), pg.password()), kind, mode);
        f.createTables();
        return f;
    }

    /** What a test does with a fresh fixture, its refresher, a connection, and the keys it holds. */
    private interface Seeded {
        void run(RefreshFixture f, Refresher refresher, Connection c, List<Key> keys) throws SQLException;
    }

    /**
     * Runs {@code body} on a fresh fixture holding the first {@code rows} keys of its kind, with
     * random rows of {@code seed}.
     */
    private void withRows(KeyKind kind, Mode mode, int rows, long seed, Seeded body) throws SQLException {
        RefreshFixture f = fixture(kind, mode);
        Refresher refresher = new Refresher(f.resolved);
        try (Connection c = f.db.connect("test")) {
            Random r = new Random(seed);
            List<Key> keys = new ArrayList<>();
            for (int i = 0; i < rows; i++) {
                Key k = f.kind.key(i);
                keys.add(k);
                f.insert(c, k, RefreshFixture.randomRow(r));
            }
            body.run(f, refresher, c, keys);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shapes")
    void refreshByKeysFollowsInsertsUpdatesDeletesAndIsIdempotent(KeyKind kind, Mode mode) throws SQLException {
        withRows(kind, mode, 50, 1, (f, refresher, c, keys) -> {
            RefreshResult first = tx.run(c, conn -> refresher.refresh(conn, keys));
            assertThat(first.read()).isEqualTo(50);
            assertThat(first.written()).isEqualTo(50);
            assertThat(f.check().clean()).as("after first refresh: %s", f.check()).isTrue();

            RefreshResult again = tx.run(c, conn -> refresher.refresh(conn, keys));
            assertThat(again.written()).as("rows already equal are not rewritten").isZero();

            // a = 10 makes the label NULL; the TOASTed big column stays unchanged.
            f.execForKey(c, "UPDATE src SET a = ?", keys.get(3), 10);
            f.execForKey(c, "UPDATE src SET b = NULL", keys.get(4));
            f.execForKey(c, "DELETE FROM src", keys.get(5));
            RefreshResult changed = tx.run(c, conn -> refresher.refresh(conn, List.of(keys.get(3), keys.get(4), keys.get(5))));
            assertThat(changed.written()).isEqualTo(2);
            assertThat(changed.deleted()).isEqualTo(mode == Mode.TABLE ? 1 : 0);
            assertThat(f.check()).isEqualTo(new RowCheck(0, 0, 0));

            // A key that never existed, and a deleted one again: nothing to do, no error.
            RefreshResult none = tx.run(c, conn -> refresher.refresh(conn, List.of(kind.key(999), keys.get(5))));
            assertThat(none.read()).isZero();
            assertThat(none.written()).isZero();
        });
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shapes")
    void copyWalksARangeInKeyOrderAndResumesFromTheLastKey(KeyKind kind, Mode mode) throws SQLException {
        withRows(kind, mode, 95, 2, (f, refresher, c, keys) -> {
            KeyRange range = KeyRange.ALL;
            long copied = 0;
            int batches = 0;
            while (true) {
                KeyRange current = range;
                RefreshResult batch = tx.run(c, conn -> refresher.copy(conn, current, 10));
                if (batch.lastKey() == null) {
                    break;
                }
                batches++;
                copied += batch.read();
                range = range.resumeAfter(batch.lastKey());
            }
            assertThat(copied).isEqualTo(95);
            assertThat(batches).isEqualTo(10);
            assertThat(f.check().clean()).as("%s", f.check()).isTrue();
        });
    }

    /**
     * The "any target row in the rest of the range?" probe of every table-mode sub-batch must walk
     * the primary key even for a one-sided range (the first and the last chunk) and a generic plan:
     * written as {@code EXISTS}, it was a sequential scan of the whole target per sub-batch.
     */
    @Test
    void theEmptyRangeProbeWalksTheIndexForOneSidedRanges() throws SQLException {
        RefreshFixture f = fixture(KeyKind.BIGINT, Mode.TABLE);
        RefreshSql sql = new RefreshSql(f.resolved, Guards.BACKFILL);
        try (Connection c = f.db.connect("test"); Statement s = c.createStatement()) {
            s.execute("INSERT INTO tgt (id) SELECT i FROM generate_series(1, 100000) i");
            s.execute("ANALYZE tgt");
            s.execute("SET plan_cache_mode = force_generic_plan");
            for (boolean[] bounds : new boolean[][] {{true, false}, {false, true}, {true, true}}) {
                String probe = sql.targetRowsIn(bounds[0], bounds[1]);
                StringBuilder numbered = new StringBuilder();
                int n = 0;
                for (char ch : probe.toCharArray()) {
                    numbered.append(ch == '?' ? "$" + (++n) : String.valueOf(ch));
                }
                String name = "probe_" + bounds[0] + "_" + bounds[1];
                s.execute("PREPARE " + name + " AS " + numbered);
                StringBuilder plan = new StringBuilder();
                try (ResultSet rs = s.executeQuery("EXPLAIN EXECUTE " + name + (n == 2 ? "(5, 7)" : "(5)"))) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                assertThat(plan.toString()).as("plan of %s", probe).contains("Index").doesNotContain("Seq Scan");
            }
        }
    }

    /**
     * Table mode: a range in which the sync already wrote rows takes the anti-join statement, not
     * the plain insert of an empty range; it inserts only the missing keys and never overwrites a
     * row that is there (the tampered one stays tampered: the copy did not touch it).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = KeyKind.class, names = {"BIGINT", "COMPOSITE", "UUID"})
    void copyIntoARangeTheSyncTouchedInsertsOnlyTheMissingKeys(KeyKind kind) throws SQLException {
        withRows(kind, Mode.TABLE, 30, 6, (f, refresher, c, keys) -> {
            tx.run(c, conn -> refresher.refresh(conn, List.of(kind.key(5), kind.key(6), kind.key(7))));
            f.execForKey(c, "UPDATE tgt SET doubled = -1", kind.key(5));
            RefreshResult all = tx.run(c, conn -> refresher.copy(conn, KeyRange.ALL, 1000));
            assertThat(all.read()).isEqualTo(30);
            assertThat(all.written()).isEqualTo(27);
            assertThat(f.check()).isEqualTo(new RowCheck(0, 0, 1));
            RefreshResult again = tx.run(c, conn -> refresher.copy(conn, KeyRange.ALL, 1000));
            assertThat(again.written()).as("a second copy finds every key present").isZero();
        });
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shapes")
    void copyOfABoundedRangeTouchesOnlyThatRange(KeyKind kind, Mode mode) throws SQLException {
        withRows(kind, mode, 40, 3, (f, refresher, c, keys) -> {
            // Bounds taken from the table's own key order: the 10th and the 30th key.
            List<Key> ordered = orderedKeys(c, f);
            KeyRange middle = new KeyRange(ordered.get(9), ordered.get(29));
            RefreshResult batch = tx.run(c, conn -> refresher.copy(conn, middle, 1000));
            assertThat(batch.read()).isEqualTo(20);
            assertThat(batch.lastKey()).isEqualTo(ordered.get(29));
            RowCheck check = f.check();
            if (mode == Mode.TABLE) {
                assertThat(check.missing()).isEqualTo(20);
            } else {
                assertThat(check.stale()).isEqualTo(20);
            }
        });
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shapes")
    void refreshRangeRepairsDriftInjectedBehindItsBack(KeyKind kind, Mode mode) throws SQLException {
        withRows(kind, mode, 30, 4, (f, refresher, c, keys) -> {
            tx.run(c, conn -> refresher.copy(conn, KeyRange.ALL, 1000));
            String table = mode == Mode.TABLE ? "tgt" : "src";
            f.execForKey(c, "UPDATE " + table + " SET doubled = -1", kind.key(1));
            f.execForKey(c, "UPDATE " + table + " SET label = 'tampered'", kind.key(2));
            if (mode == Mode.TABLE) {
                f.execForKey(c, "DELETE FROM tgt", kind.key(3));
                try (Statement s = c.createStatement()) {
                    // An extra target row whose source row does not exist.
                    String keyCols = String.join(", ", kind.columns.stream().map(k -> k.name()).toList());
                    String keyVals = String.join(", ", kind.key(500).values().stream().map(v -> "'" + v + "'").toList());
                    s.execute("INSERT INTO tgt (" + keyCols + ", doubled) VALUES (" + keyVals + ", 1)");
                }
            }
            assertThat(f.check().clean()).isFalse();
            RefreshResult repaired = tx.run(c, conn -> refresher.refreshRange(conn, KeyRange.ALL, 1000));
            long extras = tx.run(c, conn -> refresher.deleteExtras(conn, KeyRange.ALL));
            assertThat(repaired.written()).isEqualTo(mode == Mode.TABLE ? 3 : 2);
            assertThat(extras).isEqualTo(mode == Mode.TABLE ? 1 : 0);
            assertThat(f.check()).isEqualTo(new RowCheck(0, 0, 0));
        });
    }

    @org.junit.jupiter.api.Test
    void jsonTargetColumnsRefreshAndCompareCanonically() throws SQLException {
        String name = pg.createDatabase("refresh_json");
        Database db = new Database(pg.jdbcUrl(name), pg.user(), pg.password());
        var columns = List.of(new dev.shapeshift.spec.TargetColumn("doc", "json", "json_build_object('a', a, 'b', b)"));
        for (Mode mode : List.of(Mode.IN_PLACE, Mode.TABLE)) {
            var spec = new dev.shapeshift.spec.MigrationSpec("json-" + mode.label(), new dev.shapeshift.spec.Source("public",
                    "js_" + mode.ordinal(), List.of("id")), mode, new dev.shapeshift.spec.Target("public",
                    mode == Mode.TABLE ? "jt_" + mode.ordinal() : null, columns), null, null, null, null, null);
            var key = List.of(new dev.shapeshift.spec.Column("id", "bigint"));
            Refresher refresher = new Refresher(new dev.shapeshift.spec.ResolvedSpec(spec, key, key));
            WorkerTransactions tx = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);
            try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE js_" + mode.ordinal() + " (id bigint PRIMARY KEY, a int, b text"
                        + (mode == Mode.IN_PLACE ? ", doc json" : "") + ")");
                if (mode == Mode.TABLE) {
                    s.execute("CREATE TABLE jt_" + mode.ordinal() + " (id bigint PRIMARY KEY, doc json)");
                }
                s.execute("INSERT INTO js_" + mode.ordinal() + " SELECT g, g, 'x' || g FROM generate_series(1, 20) g");
                List<Key> keys = new ArrayList<>();
                for (int i = 1; i <= 20; i++) {
                    keys.add(Key.of(i));
                }
                assertThat(tx.run(c, conn -> refresher.refresh(conn, keys)).written()).isEqualTo(20);
                assertThat(tx.run(c, conn -> refresher.refresh(conn, keys)).written())
                        .as("equal json documents are not rewritten (%s)", mode).isZero();
                String table = mode == Mode.TABLE ? "jt_" + mode.ordinal() : "js_" + mode.ordinal();
                try (var rs = s.executeQuery("SELECT doc::text FROM " + table + " WHERE id = 7")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("{\"a\" : 7, \"b\" : \"x7\"}");
                }
            }
        }
    }

    private static List<Key> orderedKeys(Connection c, RefreshFixture f) throws SQLException {
        // Qualified: a bare name in ORDER BY would sort by the ::text output column of the same name.
        String cols = String.join(", ", f.kind.columns.stream().map(k -> "src." + k.name()).toList());
        String text = String.join(", ", f.kind.columns.stream().map(k -> k.name() + "::text").toList());
        List<Key> out = new ArrayList<>();
        try (Statement s = c.createStatement(); var rs = s.executeQuery("SELECT " + text + " FROM src ORDER BY " + cols)) {
            while (rs.next()) {
                String[] v = new String[f.kind.columns.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = rs.getString(i + 1);
                }
                out.add(Key.of(v));
            }
        }
        return out;
    }
}
