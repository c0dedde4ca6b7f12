package dev.shapeshift.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
                """ + ReverseLoad.SPEC_COLUMNS);
        Model model = new Model();
        String keyNames = ReverseLoad.names(kind);
        String keyParams = ReverseLoad.params(kind);
        try (Connection c = db.connect("test-seed");
             PreparedStatement ps = c.prepareStatement("INSERT INTO public.t (" + keyNames + ", legacy, name, v, tag) "
                     + "VALUES (" + keyParams + ", ?, ?, ?, ?)")) {
            for (long i = 0; i < ROWS; i++) {
                Key k = kind.key(i);
                int p = ReverseLoad.bind(ps, 1, k);
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
        String insert = "INSERT INTO public.t (" + keyNames + ", v, tag, name) VALUES (" + keyParams + ", ?, ?, '')";
        List<Throwable> failures = ReverseLoad.writeWhileSyncing(db, refresher, "t-rev", (seed, touched, running) ->
                ReverseLoad.write(db, kind, model, touched, running, seed, "public.t", insert));
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

    private static Map<Key, Old> oldShape(Database db, KeyKind kind) throws SQLException {
        return ReverseLoad.rows(db, kind, ", legacy, name", "public.t", (rs, n) -> new Old(rs.getInt(n + 1), rs.getString(n + 2)));
    }

    record Old(int legacy, String name) {
    }

    /** The old shape the writers' new-shape writes imply, by the reverse transforms re-implemented in Java. */
    static final class Model extends ReverseLoad.Model<Old> {
        @Override
        String name(Key k) {
            return rows.get(k).name;
        }

        @Override
        void update(Key k, long v, String tag) {
            Old now = rows.get(k);
            String name = now.name.toUpperCase(Locale.ROOT).equals(tag) ? now.name : tag.toLowerCase(Locale.ROOT);
            rows.put(k, new Old((int) (v / 10), name));
        }

        /** New code writes only the new shape: name '' is a placeholder the reverse replaces (upper('') <> tag). */
        @Override
        void insert(Key k, long v, String tag) {
            rows.put(k, new Old(0, ""));
            update(k, v, tag);
        }

        @Override
        void delete(Key k) {
            rows.remove(k);
        }

        @Override
        void move(Key from, Key to) {
            rows.put(to, rows.remove(from));
        }
    }
}
