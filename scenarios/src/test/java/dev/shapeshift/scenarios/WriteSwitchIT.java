package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.shapeshift.scenarios.WriteSwitchFixture.flag;
import static dev.shapeshift.scenarios.WriteSwitchFixture.notNull;
import static dev.shapeshift.scenarios.WriteSwitchFixture.rollBackUnderLoad;
import static dev.shapeshift.scenarios.WriteSwitchFixture.rolledBack;
import static dev.shapeshift.scenarios.WriteSwitchFixture.rollingWriteSwitch;
import static dev.shapeshift.scenarios.WriteSwitchFixture.shape;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.flag.FlagClient;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.scenarios.WriteSwitchFixture.Model;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The write switch end to end on the real stack (PostgreSQL, Kafka, the Debezium bridge, two
 * workers, a driving coordinator), in place, under a write load of two application instances that
 * honour the flags through {@link FlagClient} as docs/flags.md tells applications to:
 * <ol>
 *   <li>both instances write the old shape only; the driver takes the migration to verified;</li>
 *   <li>they roll to dual-write code; the operator moves to dual-writes; a deliberately wrong dual
 *       write on 10 known keys is reported as exactly those 10 {@code dual-write-mismatch} keys and
 *       keeps the gate closed until a clean {@code writes.cleanFor} passes;</li>
 *   <li>reads switch, then writes: the old column {@code label NOT NULL} is relaxed, the instances
 *       see the write flag one after the other (a rolling switch) and write only the new shape —
 *       inserts without {@code label} succeed and the reverse sync fills it; the table has REPLICA
 *       IDENTITY FULL;</li>
 *   <li>an instance of the old code still running sets {@code label} alone on three keys: the
 *       change stream names exactly those keys (none of the new-shape writes of the two instances),
 *       the contract-ready gate stays closed naming them and the statement, and opens once it
 *       stopped for the quiet period (negative control by hand: the table left at REPLICA IDENTITY
 *       DEFAULT, the keys are never named and the test fails);</li>
 *   <li>a rollback under that load: the write flag goes off, the instances go back to dual writes,
 *       the reverse sync drains, the new columns are dropped, NOT NULL and the replica identity
 *       (DEFAULT) are back.</li>
 * </ol>
 * Checked against an independent model of what each instance wrote (the reverse transforms
 * re-implemented in Java): after the write switch the old shape equals reverse(new); after the
 * rollback it equals what the application wrote. The model is the test's; nothing it checks is
 * read from Shapeshift. Negative control: {@code ReverseRefreshIT} (common) shows the same model
 * check failing when the sync stays forward after the write switch.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class WriteSwitchIT {
    static final String NAME = "users-ws";

    /** In place: the new columns beside the old ones in {@code public.users}. */
    static final WriteSwitchFixture.Layout<Instance> LAYOUT = new WriteSwitchFixture.Layout<>(
            db -> WriteSwitchFixture.seed(db, "bigint"), WriteSwitchIT::register, WriteSwitchIT::appRole, Instance::new,
            "public.users", "shape", WriteSwitchIT::oldDiffersFromReverse, WriteSwitchIT::newShape, WriteSwitchIT::oldShape);

    @Test
    void dualWritesThenWritesSwitchThenRollbackUnderLoad(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (WriteSwitchFixture.Stage<Instance> stage =
                     new WriteSwitchFixture.Stage<>(pg, kafka, LAYOUT, NAME, "write_switch")) {
            Database db = stage.db;
            Transitions operator = stage.operator;
            Instance a = stage.a;
            Instance b = stage.b;
            WriteSwitchTableIT.OldCodeWriter oldCode = new WriteSwitchTableIT.OldCodeWriter(stage.app, NAME,
                    "UPDATE public.users SET label = $", (c, id) -> stage.model.writeOldCode(c, id));
            try {
                stage.verifiedThenDualWritesThenReadsSwitched();
                advance(operator, Phase.WRITES_SWITCHED);
                assertThat(flag(db, NAME + ".write-new")).isTrue();
                assertThat(notNull(db, "label")).as("relaxed by the write switch").isFalse();
                assertThat(DriverIT.rows(db, "SELECT sync_direction FROM shapeshift.migration WHERE name = '" + NAME + "'"))
                        .containsExactly("reverse");
                assertThat(replicaIdentity(db)).as("FULL after the write switch: before images of UPDATEs").isEqualTo("f");
                // A rolling switch: b sees the write flag now; a keeps dual-writing a little longer.
                rollingWriteSwitch(a, b, () -> a.newOnlyWrites() > 20 && b.newOnlyWrites() > 20);

                // Both instances now write only the new shape. An instance of the old code still
                // running changes the old column alone on three keys: named from the change stream
                // (and its statement from pg_stat_statements), the gate stays closed until it stops.
                String newOnlySince = DriverIT.rows(db, "SELECT now()::text").get(0);
                oldCode.start();
                oldCode.assertGateClosedThenOpensAfterItStops(db, operator);

                // Old readers (the nightly export) read old = reverse(new) once the reverse sync caught
                // up: the instances pause so the table stands still for the look.
                a.pause();
                b.pause();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                        .until(() -> oldDiffersFromReverse(db), n -> n == 0);
                assertThat(newShape(db)).as("the new shape is what the application wrote").isEqualTo(stage.model.newShape());
                // Independent of the gate: since both instances wrote only the new shape, the keys
                // recorded as old-shape writes are exactly those the old code wrote (its writer's own
                // list) — none of the instances' hundreds of new-shape writes.
                assertThat(new TreeSet<>(DriverIT.rows(db, "SELECT key::text FROM shapeshift.old_shape_change WHERE "
                        + "migration = '" + NAME + "' AND last_commit > '" + newOnlySince + "'::timestamptz")))
                        .as("old-shape writes recorded after the instances wrote only the new shape")
                        .isEqualTo(new TreeSet<>(oldCode.written())).isNotEmpty();
                a.resume();
                b.resume();

                // Rollback under load: the write flag goes off, the instances go back to dual writes,
                // the reverse sync drains, then the new columns go.
                rollBackUnderLoad(db, operator, NAME, "column(s)", a, b);
                Thread.sleep(500); // the application keeps writing the old shape after the rollback
            } finally {
                oldCode.stop();
                stage.stopApps();
            }
            rolledBack(db, stage.catalog, NAME, a, b);
            assertThat(flag(db, NAME + ".read-new")).isFalse();
            assertThat(notNull(db, "label")).as("NOT NULL restored, validated").isTrue();
            assertThat(replicaIdentity(db)).as("the replica identity the table had before the write switch").isEqualTo("d");
            assertThat(oldShape(db)).as("the old shape equals what the application wrote").isEqualTo(stage.model.oldShape());
        }
    }

    static void advance(Transitions operator, Phase to) {
        WriteSwitchFixture.advance(operator, NAME, to);
    }

    /** Rows whose old columns are not what the reverse transforms give for their new columns. */
    static long oldDiffersFromReverse(Database db) throws SQLException {
        return DriverIT.count(db, "SELECT count(*) FROM public.users WHERE (legacy_verified_at IS NOT NULL) "
                + "IS DISTINCT FROM email_verified OR label IS NULL OR lower(label) IS DISTINCT FROM label_key");
    }

    /** Registers the spec under {@code name}: test classes sharing one Kafka broker never share a name (topics, groups). */
    static void register(Database db, String name) {
        String yaml = UsersSpec.withColumns(name, WriteSwitchFixture.NEW_COLUMNS, WriteSwitchFixture.switchSettings("") + """
                contract:
                  dropColumns: [legacy_verified_at, label]
                  quietPeriod: 3s
                """);
        DriverIT.create(db, name, yaml);
    }

    static Database appRole(Database db, PostgresServer pg, String dbName) throws SQLException {
        Database app = DriverIT.appRole(db, pg, dbName);
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("GRANT USAGE ON SCHEMA shapeshift TO " + app.user());
            s.execute("GRANT SELECT ON shapeshift.flag TO " + app.user());
        }
        return app;
    }

    private static String replicaIdentity(Database db) throws SQLException {
        return DriverIT.rows(db, "SELECT relreplident::text FROM pg_class WHERE oid = 'public.users'::regclass").get(0);
    }

    static Map<Long, String> newShape(Database db) throws SQLException {
        return shape(db, "SELECT id, email_verified, label_key FROM public.users");
    }

    static Map<Long, String> oldShape(Database db) throws SQLException {
        return shape(db, "SELECT id, legacy_verified_at IS NOT NULL, label FROM public.users");
    }

    /**
     * One application instance on its own connection, writing the keys of one parity. Old code
     * writes the old shape; dual code writes both (consistently); once told to honour the write flag
     * it writes only the new shape while {@code <name>.write-new} is on and both while it is off.
     * After the rollback drops the new columns it writes the old shape only (redeployed).
     */
    static final class Instance extends WriteSwitchFixture.Instance {
        Instance(Database app, Model model, int parity, String name, String migration) {
            // 42703: the rollback dropped the new columns
            super(app, model, parity, name, migration, 31, "42703", true, "public.users");
        }

        @Override
        String threadName(String name) {
            return "write-switch-app-" + name;
        }

        @Override
        boolean writeWrongNewShape(Connection c, long id) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("UPDATE public.users SET legacy_verified_at = "
                    + "'2021-01-01'::timestamptz, email_verified = false WHERE id = ?")) {
                ps.setLong(1, id);
                return ps.executeUpdate() == 1;
            }
        }

        @Override
        boolean write(int op, long id, long next, boolean v, boolean newOnlyMode, Random random) throws SQLException {
            if (op < 12) {
                update(id, v, newOnlyMode, random);
            } else if (op < 18) {
                insert(next, v, newOnlyMode);
                return true;
            } else if (model.has(id)) {
                try (PreparedStatement ps = connection.prepareStatement("DELETE FROM public.users WHERE id = ?")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                }
                model.delete(id);
            }
            return false;
        }

        @Override
        void updateOld(long id, boolean v, String l) throws SQLException {
            String sql = both()
                    ? "UPDATE public.users SET legacy_verified_at = ?, label = ?, email_verified = ?, label_key = lower(?) WHERE id = ?"
                    : "UPDATE public.users SET legacy_verified_at = ?, label = ? WHERE id = ?";
            try (PreparedStatement ps = connection.prepareStatement(sql)) {
                ps.setObject(1, v ? java.time.OffsetDateTime.parse("2022-02-02T00:00:00Z") : null, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
                ps.setString(2, l);
                if (both()) {
                    ps.setBoolean(3, v);
                    ps.setString(4, l);
                    ps.setLong(5, id);
                } else {
                    ps.setLong(3, id);
                }
                ps.executeUpdate();
            }
            model.writeOld(id, v, l);
        }

        private void insert(long id, boolean v, boolean newOnlyMode) throws SQLException {
            String l = "New " + id;
            if (newOnlyMode) {
                try (PreparedStatement ps = connection.prepareStatement(
                        "INSERT INTO public.users (id, name, email_verified, label_key) VALUES (?, 'n', ?, ?)")) {
                    ps.setLong(1, id);
                    ps.setBoolean(2, v);
                    ps.setString(3, l.toLowerCase(Locale.ROOT));
                    ps.executeUpdate();
                }
                model.writeNew(id, v, l.toLowerCase(Locale.ROOT));
                newOnly.incrementAndGet();
                return;
            }
            boolean both = both();
            try (PreparedStatement ps = connection.prepareStatement(both
                    ? "INSERT INTO public.users (id, name, legacy_verified_at, label, email_verified, label_key) VALUES (?, 'n', ?, ?, ?, lower(?))"
                    : "INSERT INTO public.users (id, name, legacy_verified_at, label) VALUES (?, 'n', ?, ?)")) {
                ps.setLong(1, id);
                ps.setObject(2, v ? java.time.OffsetDateTime.parse("2022-02-02T00:00:00Z") : null, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
                ps.setString(3, l);
                if (both) {
                    ps.setBoolean(4, v);
                    ps.setString(5, l);
                }
                ps.executeUpdate();
            }
            model.writeOld(id, v, l);
        }
    }
}
