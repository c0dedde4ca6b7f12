package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.shapeshift.scenarios.WriteSwitchFixture.flag;
import static dev.shapeshift.scenarios.WriteSwitchFixture.notNull;
import static dev.shapeshift.scenarios.WriteSwitchFixture.rollBackUnderLoad;
import static dev.shapeshift.scenarios.WriteSwitchFixture.rolledBack;
import static dev.shapeshift.scenarios.WriteSwitchFixture.rollingWriteSwitch;
import static dev.shapeshift.scenarios.WriteSwitchFixture.shape;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.gate.Check;
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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The write switch end to end in <b>table mode</b> ({@code users} → a new table {@code users_v2})
 * on the real stack (PostgreSQL, Kafka, the Debezium bridge capturing both tables, two workers, a
 * driving coordinator), under a write load of two application instances that honour the flags
 * through {@link FlagClient}:
 * <ol>
 *   <li>both instances write the old table only; the driver takes the migration to verified;</li>
 *   <li>they roll to dual-write code (both tables in one transaction, the new one by upsert); the
 *       operator moves to dual-writes; a deliberately wrong dual write on 10 known keys is reported
 *       as exactly those 10 {@code dual-write-mismatch} keys;</li>
 *   <li>reads switch, then writes; the instances see the write flag one after the other and write
 *       only the new table — updates, inserts, deletes, key changes — and the reverse sync carries
 *       every write into the old table (inserting, updating, deleting, moving its rows);</li>
 *   <li>a rollback under that load: the write flag goes off, the instances go back to dual writes,
 *       the reverse sync drains, the new table is dropped and NOT NULL is back.</li>
 * </ol>
 * Checked against an independent model of what each instance wrote (the reverse transforms
 * re-implemented in Java) and by a join of the two tables: after the write switch the old table
 * equals reverse(new); after the rollback it equals what the application wrote. Negative control:
 * {@code ReverseTableRefreshIT} (common) shows the same kind of model check failing when the sync
 * stays forward after the write switch.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class WriteSwitchTableIT {
    static final String NAME = "users-wst";

    /** Table mode: the new shape in {@code public.users_v2}. */
    static final WriteSwitchFixture.Layout<Instance> LAYOUT = new WriteSwitchFixture.Layout<>(
            db -> WriteSwitchFixture.seed(db, "bigserial"), WriteSwitchTableIT::register, WriteSwitchTableIT::appRole, Instance::new,
            "public.users_v2", "table", WriteSwitchTableIT::oldDiffersFromReverse, WriteSwitchTableIT::newShape, WriteSwitchTableIT::oldShape);

    @Test
    void dualWritesThenWritesSwitchThenRollbackUnderLoadInTableMode(PostgresServer pg, KafkaBroker kafka) throws Exception {
        long started = System.nanoTime();
        try (WriteSwitchFixture.Stage<Instance> stage =
                     new WriteSwitchFixture.Stage<>(pg, kafka, LAYOUT, NAME, "write_switch_table")) {
            Database db = stage.db;
            Transitions operator = stage.operator;
            Instance a = stage.a;
            Instance b = stage.b;
            OldCodeWriter oldCode = new OldCodeWriter(stage.app);
            try {
                stage.verifiedThenDualWritesThenReadsSwitched();
                assertThat(DriverIT.rows(db, "SELECT attidentity FROM pg_attribute WHERE attrelid = "
                        + "'public.users_v2'::regclass AND attname = 'id'")).as("the expand gave the new key its own identity")
                        .containsExactly("d");
                advance(operator, Phase.WRITES_SWITCHED);
                long oldMaxAtSwitch = DriverIT.count(db, "SELECT max(id) FROM public.users");
                assertThat(DriverIT.count(db, "SELECT pg_sequence_last_value(pg_get_serial_sequence('public.users_v2', 'id'))"))
                        .as("the write switch set the new table's sequence above the old table's keys")
                        .isGreaterThanOrEqualTo(oldMaxAtSwitch);
                assertThat(flag(db, NAME + ".write-new")).isTrue();
                assertThat(notNull(db, "label")).as("relaxed by the write switch").isFalse();
                assertThat(DriverIT.count(db, "SELECT count(*) FROM pg_policy WHERE polrelid = 'public.users'::regclass"))
                        .as("the read counter's policies on the old table").isEqualTo(4);
                assertThat(DriverIT.rows(db, "SELECT sync_direction FROM shapeshift.migration WHERE name = '" + NAME + "'"))
                        .containsExactly("reverse");
                oldCode.start();
                rollingWriteSwitch(a, b, () -> a.newOnlyWrites() > 20 && b.newOnlyWrites() > 20 && a.newOnlyInserts() > 0
                        && b.newOnlyDeletes() > 0 && a.keyChanges() + b.keyChanges() > 0);

                oldCode.assertGateClosedThenOpensAfterItStops(db, operator);

                a.pause();
                b.pause();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                        .until(() -> oldDiffersFromReverse(db), n -> n == 0);
                assertThat(newShape(db)).as("the new table is what the application wrote").isEqualTo(stage.model.newShape());
                assertThat(oldShape(db)).as("the old table is reverse(what the application wrote)").isEqualTo(stage.model.oldShape());
                List<Long> generated = new ArrayList<>(a.newTableKeys());
                generated.addAll(b.newTableKeys());
                assertThat(generated).as("inserts into the new table without a key got keys after every old key")
                        .isNotEmpty().allMatch(k -> k > oldMaxAtSwitch).doesNotHaveDuplicates();
                assertThat(DriverIT.count(db, "SELECT count(*) FROM public.users_v2 n WHERE n.id > pg_sequence_last_value("
                        + "pg_get_serial_sequence('public.users_v2', 'id'))"))
                        .as("no key of the new table above its sequence").isZero();
                assertThat(operator.check(NAME, Phase.CONTRACT_READY).checks())
                        .filteredOn(c -> c.name().equals("key-sequences")).singleElement().matches(c -> c.passed());
                String seq = DriverIT.rows(db, "SELECT pg_get_serial_sequence('public.users_v2', 'id')").get(0);
                long at = DriverIT.count(db, "SELECT pg_sequence_last_value('" + seq + "')");
                DriverIT.rows(db, "SELECT setval('" + seq + "', 1)");
                assertThat(operator.check(NAME, Phase.CONTRACT_READY).checks())
                        .filteredOn(c -> c.name().equals("key-sequences")).singleElement()
                        .matches(c -> !c.passed() && c.evidence().contains(seq), "names the sequence that fell behind");
                DriverIT.rows(db, "SELECT setval('" + seq + "', " + at + ")");
                a.resume();
                b.resume();

                assertThat(DriverIT.count(db, "SELECT coalesce(sum(writes), 0) FROM shapeshift.read_counter WHERE "
                        + "migration = '" + NAME + "' AND role_name = '" + stage.app.user() + "'"))
                        .as("the application's old-table writes after the switch, counted under its role").isPositive();
                rollBackUnderLoad(db, operator, NAME, "table", a, b);
                long newMaxAtRollback = Math.max(a.newTableKeys().stream().mapToLong(Long::longValue).max().orElse(0),
                        b.newTableKeys().stream().mapToLong(Long::longValue).max().orElse(0));
                await().atMost(Duration.ofSeconds(30)).until(() -> a.oldKeysAfterNew().size() + b.oldKeysAfterNew().size() > 5);
                assertThat(a.oldKeysAfterNew()).as("old code's inserts after the rollback come after the new table's keys")
                        .allMatch(k -> k > newMaxAtRollback);
                assertThat(b.oldKeysAfterNew()).allMatch(k -> k > newMaxAtRollback);
                Thread.sleep(500);
            } finally {
                oldCode.stop();
                stage.stopApps();
            }
            rolledBack(db, stage.catalog, NAME, a, b);
            assertThat(notNull(db, "label")).as("NOT NULL restored, validated").isTrue();
            assertThat(DriverIT.count(db, "SELECT count(*) FROM pg_policy WHERE polrelid = 'public.users'::regclass")
                    + DriverIT.count(db, "SELECT count(*) FROM pg_class WHERE oid = 'public.users'::regclass AND relrowsecurity"))
                    .as("the read counter removed by the rollback, row-level security as before").isZero();
            assertThat(oldShape(db)).as("the old table equals what the application wrote").isEqualTo(stage.model.oldShape());
            System.out.printf("WriteSwitchTableIT: %d new-only writes (%d inserts, %d deletes, %d key changes), "
                            + "%d old-table inserts after the rollback, %.1fs%n",
                    a.newOnlyWrites() + b.newOnlyWrites(), a.newOnlyInserts() + b.newOnlyInserts(),
                    a.newOnlyDeletes() + b.newOnlyDeletes(), a.keyChanges() + b.keyChanges(),
                    a.oldKeysAfterNew().size() + b.oldKeysAfterNew().size(), (System.nanoTime() - started) / 1e9);
        }
    }

    /**
     * An instance of the old code still running after the write switch: it writes the old shape on
     * three keys in turn, every 200 ms. Here (table mode) a value-preserving UPDATE of the old table,
     * so the model of what the application wrote stays exact; {@code WriteSwitchIT} (in place) gives
     * its own write, which changes an old column. The change stream shows its changes (no echo mark,
     * after the flip): the contract-ready gate stays closed and names its keys and its statement;
     * once it stops and the quiet period (3s) passes, the check opens. Negative controls (by hand):
     * with the bridge not marking old-table changes ({@code ChangePublisher.oldShape} returning false),
     * or in place with the table left at REPLICA IDENTITY DEFAULT, the keys are not named and the
     * first await fails.
     */
    static final class OldCodeWriter {
        /** One write of the old shape on one key; false when the key is gone. */
        interface Write {
            boolean write(Connection c, long id) throws Exception;
        }

        private final Database app;
        private final String migration;
        private final String statement;
        private final Write write;
        private final Set<String> written = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean();
        private final java.util.concurrent.atomic.AtomicReference<Throwable> failed =
                new java.util.concurrent.atomic.AtomicReference<>();
        private Thread thread;

        OldCodeWriter(Database app) {
            this(app, NAME, "UPDATE public.users SET label = label", (c, id) -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE public.users SET label = label WHERE id = ?")) {
                    ps.setLong(1, id);
                    return ps.executeUpdate() == 1;
                }
            });
        }

        /**
         * @param statement the start of its statement as pg_stat_statements shows it
         */
        OldCodeWriter(Database app, String migration, String statement, Write write) {
            this.app = app;
            this.migration = migration;
            this.statement = statement;
            this.write = write;
        }

        /** The keys it wrote, as {@code shapeshift.old_shape_change} spells them. */
        Set<String> written() {
            return Set.copyOf(written);
        }

        void start() {
            running.set(true);
            thread = new Thread(() -> {
                try (Connection c = app.connect("old-code")) {
                    for (long i = 0; running.get(); i++) {
                        long id = 1001 + (i % 3) * 3;
                        if (write.write(c, id)) {
                            written.add("[\"" + id + "\"]");
                        }
                        Thread.sleep(200);
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            }, "old-code-writer");
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            if (thread != null) {
                thread.join();
            }
        }

        void assertGateClosedThenOpensAfterItStops(Database db, Transitions operator) throws Exception {
            java.util.function.Supplier<Check> check = () -> operator.check(migration, Phase.CONTRACT_READY).checks()
                    .stream().filter(c -> c.name().equals("no-old-shape-writes")).findFirst().orElseThrow();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                Check c = check.get();
                return !c.passed() && c.evidence().contains("of the old shape written by an application")
                        && written.stream().anyMatch(k -> c.evidence().contains(k));
            });
            Check closed = check.get();
            assertThat(closed.evidence()).as("names the statement from pg_stat_statements").contains(statement);
            assertThat(new Catalog(db, "test").get(migration).phase()).as("held in writes-switched")
                    .isEqualTo(Phase.WRITES_SWITCHED);
            System.out.println("old-code writer (" + migration + "): " + closed.evidence());
            stop();
            assertThat(failed.get()).as("the old-code writer failed").isNull();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> new Catalog(db, "test").get(migration).phase() == Phase.CONTRACT_READY || check.get().passed());
        }
    }

    private static void advance(Transitions operator, Phase to) {
        WriteSwitchFixture.advance(operator, NAME, to);
    }

    /** Keys on one side only, or whose old row is not what the reverse transforms give for the new row. */
    static long oldDiffersFromReverse(Database db) throws SQLException {
        return DriverIT.count(db, "SELECT count(*) FROM public.users u FULL JOIN public.users_v2 n USING (id) "
                + "WHERE u.id IS NULL OR n.id IS NULL OR (u.legacy_verified_at IS NOT NULL) IS DISTINCT FROM n.email_verified "
                + "OR u.label IS NULL OR lower(u.label) IS DISTINCT FROM n.label_key OR u.name IS DISTINCT FROM n.name");
    }

    static void register(Database db, String name) {
        String yaml = UsersSpec.tableMode(name, UsersSpec.column("name", "text", "name") + WriteSwitchFixture.NEW_COLUMNS,
                WriteSwitchFixture.switchSettings("    name: name\n") + "contract:\n  quietPeriod: 3s\n");
        DriverIT.create(db, name, yaml);
    }

    /** The application's role; it may also write the new table, which the expand creates later. */
    static Database appRole(Database db, PostgresServer pg, String dbName) throws SQLException {
        Database app = WriteSwitchIT.appRole(db, pg, dbName);
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "
                    + app.user());
            s.execute("GRANT USAGE ON SEQUENCE public.users_id_seq TO " + app.user()); // inserts without a key
            s.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO " + app.user());
        }
        return app;
    }

    static Map<Long, String> newShape(Database db) throws SQLException {
        return shape(db, "SELECT id, email_verified, label_key FROM public.users_v2");
    }

    static Map<Long, String> oldShape(Database db) throws SQLException {
        return shape(db, "SELECT id, legacy_verified_at IS NOT NULL, label FROM public.users");
    }

    /**
     * One application instance on its own connection, writing the keys of one parity, each write in
     * one transaction. Old code writes the old table; dual code writes both (the new one by upsert);
     * once told to honour the write flag it writes only the new table while {@code <name>.write-new}
     * is on and both while it is off. After the rollback drops the new table it writes the old table
     * only (redeployed).
     */
    static final class Instance extends WriteSwitchFixture.Instance {
        private final AtomicLong newOnlyInserts = new AtomicLong();
        private final AtomicLong newOnlyDeletes = new AtomicLong();
        private final AtomicLong keyChanges = new AtomicLong();
        private final List<Long> newTableKeys = java.util.Collections.synchronizedList(new ArrayList<>());
        private final List<Long> oldKeysAfterNew = java.util.Collections.synchronizedList(new ArrayList<>());

        Instance(Database app, Model model, int parity, String name, String migration) {
            // 42P01: the rollback dropped the new table
            super(app, model, parity, name, migration, 37, "42P01", false, "public.users_v2");
        }

        @Override
        String threadName(String name) {
            return "write-switch-table-app-" + name;
        }

        long newOnlyInserts() {
            return newOnlyInserts.get();
        }

        long newOnlyDeletes() {
            return newOnlyDeletes.get();
        }

        long keyChanges() {
            return keyChanges.get();
        }

        /** Keys the new table's identity gave this instance's inserts without a key. */
        List<Long> newTableKeys() {
            synchronized (newTableKeys) {
                return new ArrayList<>(newTableKeys);
            }
        }

        /** Keys the old table's sequence gave this instance's inserts once it no longer wrote the new table only. */
        List<Long> oldKeysAfterNew() {
            synchronized (oldKeysAfterNew) {
                return new ArrayList<>(oldKeysAfterNew);
            }
        }

        /** The new row wrong (email_verified inverted), in one transaction with the old row's write. */
        @Override
        boolean writeWrongNewShape(Connection c, long id) throws SQLException {
            c.setAutoCommit(false);
            try (PreparedStatement old = c.prepareStatement("UPDATE public.users SET legacy_verified_at = "
                    + "'2021-01-01'::timestamptz WHERE id = ?");
                 PreparedStatement neu = c.prepareStatement("UPDATE public.users_v2 SET email_verified = false "
                         + "WHERE id = ?")) {
                old.setLong(1, id);
                neu.setLong(1, id);
                if (old.executeUpdate() != 1 || neu.executeUpdate() != 1) {
                    c.rollback();
                    return false;
                }
            }
            c.commit();
            return true;
        }

        @Override
        boolean write(int op, long id, long next, boolean v, boolean newOnlyMode, Random random) throws SQLException {
            if (op < 12) {
                update(id, v, newOnlyMode, random);
            } else if (op < 17) {
                insert(next, v, newOnlyMode);
                return true;
            } else if (op == 19 && newOnlyMode && model.has(id)) {
                moveKey(id);
            } else if (model.has(id)) {
                delete(id, newOnlyMode);
            }
            return false;
        }

        @Override
        void updateOld(long id, boolean v, String l) throws SQLException {
            String key = l.toLowerCase(Locale.ROOT);
            try (PreparedStatement ps = connection.prepareStatement(
                    "UPDATE public.users SET legacy_verified_at = ?, label = ? WHERE id = ? RETURNING name")) {
                ps.setObject(1, verifiedAt(v), java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
                ps.setString(2, l);
                ps.setLong(3, id);
                String n;
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return;
                    }
                    n = rs.getString(1);
                }
                if (both()) {
                    upsertNew(id, n, v, key);
                }
            }
            connection.commit();
            model.writeOld(id, v, l);
        }

        /** Inserts without a key: the table's sequence gives it (the old table's serial, the new table's identity). */
        private void insert(long n, boolean v, boolean newOnlyMode) throws SQLException {
            String l = "New " + n;
            long id;
            if (newOnlyMode) {
                try (PreparedStatement ps = connection.prepareStatement(
                        "INSERT INTO public.users_v2 (name, email_verified, label_key) VALUES ('n', ?, ?) RETURNING id")) {
                    ps.setBoolean(1, v);
                    ps.setString(2, l.toLowerCase(Locale.ROOT));
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        id = rs.getLong(1);
                    }
                }
                connection.commit();
                model.writeNew(id, v, l.toLowerCase(Locale.ROOT));
                newTableKeys.add(id);
                newOnly.incrementAndGet();
                newOnlyInserts.incrementAndGet();
                return;
            }
            try (PreparedStatement ps = connection.prepareStatement(
                    "INSERT INTO public.users (name, legacy_verified_at, label) VALUES ('n', ?, ?) RETURNING id")) {
                ps.setObject(1, verifiedAt(v), java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
                ps.setString(2, l);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            if (!newTableKeys.isEmpty()) {
                oldKeysAfterNew.add(id);
            }
            if (both()) {
                upsertNew(id, "n", v, l.toLowerCase(Locale.ROOT));
            }
            connection.commit();
            model.writeOld(id, v, l);
        }

        private void delete(long id, boolean newOnlyMode) throws SQLException {
            if (newOnlyMode || both()) {
                try (PreparedStatement ps = connection.prepareStatement("DELETE FROM public.users_v2 WHERE id = ?")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                }
            }
            if (!newOnlyMode) {
                try (PreparedStatement ps = connection.prepareStatement("DELETE FROM public.users WHERE id = ?")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                }
            }
            connection.commit();
            model.delete(id);
            if (newOnlyMode) {
                newOnly.incrementAndGet();
                newOnlyDeletes.incrementAndGet();
            }
        }

        /**
         * New code changes a row's key in the new table, to a key drawn from the new table's
         * sequence; the reverse sync moves the old row.
         */
        private void moveKey(long id) throws SQLException {
            long to;
            try (PreparedStatement ps = connection.prepareStatement("UPDATE public.users_v2 SET id = "
                    + "nextval(pg_get_serial_sequence('public.users_v2', 'id')) WHERE id = ? RETURNING id")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    to = rs.getLong(1);
                }
            }
            connection.commit();
            model.move(id, to);
            newTableKeys.add(to);
            newOnly.incrementAndGet();
            keyChanges.incrementAndGet();
        }

        /** Dual code writes the new table by upsert, in the transaction that writes the old one. */
        private void upsertNew(long id, String n, boolean v, String key) throws SQLException {
            try (PreparedStatement ps = connection.prepareStatement("INSERT INTO public.users_v2 (id, name, "
                    + "email_verified, label_key) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, "
                    + "email_verified = EXCLUDED.email_verified, label_key = EXCLUDED.label_key")) {
                ps.setLong(1, id);
                ps.setString(2, n);
                ps.setBoolean(3, v);
                ps.setString(4, key);
                ps.executeUpdate();
            }
        }

        private static java.time.OffsetDateTime verifiedAt(boolean v) {
            return v ? java.time.OffsetDateTime.parse("2022-02-02T00:00:00Z") : null;
        }
    }
}
