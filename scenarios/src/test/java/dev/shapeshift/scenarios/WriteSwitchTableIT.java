package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.contract.Rollback;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.flag.FlagClient;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.worker.Worker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
    private static final int ROWS = 2000;
    static final String NAME = "users-wst";
    private static final String EPOCH = "2000-01-01 00:00:00+00";

    @Test
    void dualWritesThenWritesSwitchThenRollbackUnderLoadInTableMode(PostgresServer pg, KafkaBroker kafka) throws Exception {
        String dbName = pg.createDatabase("write_switch_table");
        Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        seed(db);
        register(db);
        Catalog catalog = new Catalog(db, "test");
        Database app = appRole(db, pg, dbName);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        BridgeConfig bridgeConfig = DriverIT.bridge(DriverIT.bridgeRole(db, pg, dbName), kafka);
        Transitions operator = GateWiring.transitions(db, "operator");
        Model model = new Model();
        long started = System.nanoTime();
        try (Coordinator coordinator = DriverIT.coordinator(db, kafka, registry);
             CdcBridge bridge = new CdcBridge(bridgeConfig, registry)) {
            bridge.start();
            List<Worker> workers = DriverIT.workers(db, kafka, NAME, registry);
            Instance a = new Instance(app, model, 1, "a");
            Instance b = new Instance(app, model, 0, "b");
            OldCodeWriter oldCode = new OldCodeWriter(app);
            try {
                a.start();
                b.start();
                DriverIT.awaitPhase(db, NAME, Phase.VERIFIED, Duration.ofMinutes(4));
                await().atMost(Duration.ofSeconds(30)).until(() -> catalog.get(NAME).message(),
                        m -> m != null && m.contains("--to dual-writes"));

                a.deployDualWrites();
                b.deployDualWrites();
                Thread.sleep(1500);
                advance(operator, Phase.DUAL_WRITES);

                b.pause();
                Set<String> wrong = new TreeSet<>();
                for (long id = 2; wrong.size() < 10; id += 2) {
                    if (b.writeWrongNewShape(id)) {
                        wrong.add("[\"" + id + "\"]");
                    }
                }
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                        .until(() -> new TreeSet<>(DriverIT.rows(db, "SELECT key::text FROM shapeshift.write_mismatch "
                                + "WHERE migration = '" + NAME + "'")), s -> s.size() >= wrong.size());
                assertThat(new TreeSet<>(DriverIT.rows(db, "SELECT key::text FROM shapeshift.write_mismatch WHERE "
                        + "migration = '" + NAME + "' AND kind = 'dual-write-mismatch'"))).isEqualTo(wrong);
                b.resume();
                GateReport closed = operator.check(NAME, Phase.READS_SWITCHED);
                assertThat(closed.checks()).filteredOn(c -> c.name().equals("dual-writes-clean"))
                        .singleElement().matches(c -> !c.passed(), "closed on the mismatches");

                advance(operator, Phase.READS_SWITCHED);
                assertThat(WriteSwitchIT.flag(db, NAME + ".read-new")).isTrue();
                assertThat(notNull(db, "label")).as("NOT NULL before the write switch").isTrue();
                assertThat(DriverIT.rows(db, "SELECT attidentity FROM pg_attribute WHERE attrelid = "
                        + "'public.users_v2'::regclass AND attname = 'id'")).as("the expand gave the new key its own identity")
                        .containsExactly("d");
                advance(operator, Phase.WRITES_SWITCHED);
                long oldMaxAtSwitch = DriverIT.count(db, "SELECT max(id) FROM public.users");
                assertThat(DriverIT.count(db, "SELECT pg_sequence_last_value(pg_get_serial_sequence('public.users_v2', 'id'))"))
                        .as("the write switch set the new table's sequence above the old table's keys")
                        .isGreaterThanOrEqualTo(oldMaxAtSwitch);
                assertThat(WriteSwitchIT.flag(db, NAME + ".write-new")).isTrue();
                assertThat(notNull(db, "label")).as("relaxed by the write switch").isFalse();
                assertThat(DriverIT.count(db, "SELECT count(*) FROM pg_policy WHERE polrelid = 'public.users'::regclass"))
                        .as("the read counter's policies on the old table").isEqualTo(4);
                assertThat(DriverIT.rows(db, "SELECT sync_direction FROM shapeshift.migration WHERE name = '" + NAME + "'"))
                        .containsExactly("reverse");
                oldCode.start();
                b.honourWriteFlag();
                Thread.sleep(1500);
                a.honourWriteFlag();
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    if (a.failure() != null || b.failure() != null) {
                        throw new AssertionError("an application instance failed", a.failure() != null ? a.failure() : b.failure());
                    }
                    return a.newOnlyWrites() > 20 && b.newOnlyWrites() > 20 && a.newOnlyInserts() > 0
                            && b.newOnlyDeletes() > 0 && a.keyChanges() + b.keyChanges() > 0;
                });
                Thread.sleep(1000);

                oldCode.assertGateClosedThenOpensAfterItStops(db, operator);

                a.pause();
                b.pause();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                        .until(() -> oldDiffersFromReverse(db), n -> n == 0);
                assertThat(newShape(db)).as("the new table is what the application wrote").isEqualTo(model.newShape());
                assertThat(oldShape(db)).as("the old table is reverse(what the application wrote)").isEqualTo(model.oldShape());
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
                        + "migration = '" + NAME + "' AND role_name = '" + app.user() + "'"))
                        .as("the application's old-table writes after the switch, counted under its role").isPositive();
                Rollback.Result r = new Rollback(db, operator, null).rollback(NAME, "operator", "drill: roll back "
                        + "after the write switch", false);
                assertThat(r.done()).anyMatch(s -> s.contains("write flag off"))
                        .anyMatch(s -> s.contains("sync runs forward again"))
                        .anyMatch(s -> s.contains("dropped new table"));
                assertThat(a.newOnlyWrites() + b.newOnlyWrites()).isGreaterThan(40);
                long newMaxAtRollback = Math.max(a.newTableKeys().stream().mapToLong(Long::longValue).max().orElse(0),
                        b.newTableKeys().stream().mapToLong(Long::longValue).max().orElse(0));
                await().atMost(Duration.ofSeconds(30)).until(() -> a.oldKeysAfterNew().size() + b.oldKeysAfterNew().size() > 5);
                assertThat(a.oldKeysAfterNew()).as("old code's inserts after the rollback come after the new table's keys")
                        .allMatch(k -> k > newMaxAtRollback);
                assertThat(b.oldKeysAfterNew()).allMatch(k -> k > newMaxAtRollback);
                Thread.sleep(500);
            } finally {
                oldCode.stop();
                a.close();
                b.close();
                workers.forEach(Worker::close);
            }
            assertThat(a.failure()).as("instance a failed").isNull();
            assertThat(b.failure()).as("instance b failed").isNull();
            assertThat(catalog.get(NAME).phase()).isEqualTo(Phase.ROLLED_BACK);
            assertThat(WriteSwitchIT.flag(db, NAME + ".write-new")).isFalse();
            assertThat(notNull(db, "label")).as("NOT NULL restored, validated").isTrue();
            assertThat(DriverIT.count(db, "SELECT count(*) FROM pg_policy WHERE polrelid = 'public.users'::regclass")
                    + DriverIT.count(db, "SELECT count(*) FROM pg_class WHERE oid = 'public.users'::regclass AND relrowsecurity"))
                    .as("the read counter removed by the rollback, row-level security as before").isZero();
            assertThat(oldShape(db)).as("the old table equals what the application wrote").isEqualTo(model.oldShape());
            System.out.printf("WriteSwitchTableIT: %d new-only writes (%d inserts, %d deletes, %d key changes), "
                            + "%d old-table inserts after the rollback, %.1fs%n",
                    a.newOnlyWrites() + b.newOnlyWrites(), a.newOnlyInserts() + b.newOnlyInserts(),
                    a.newOnlyDeletes() + b.newOnlyDeletes(), a.keyChanges() + b.keyChanges(),
                    a.oldKeysAfterNew().size() + b.oldKeysAfterNew().size(), (System.nanoTime() - started) / 1e9);
        } finally {
            DriverIT.dropSlot(db, bridgeConfig.slot());
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
        try {
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> operator.advance(NAME, to, "operator", "test approves " + to).phase() == to);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("gate " + to + " stayed closed: " + operator.check(NAME, to).checks(), e);
        }
    }

    /** Keys on one side only, or whose old row is not what the reverse transforms give for the new row. */
    static long oldDiffersFromReverse(Database db) throws SQLException {
        return DriverIT.count(db, "SELECT count(*) FROM public.users u FULL JOIN public.users_v2 n USING (id) "
                + "WHERE u.id IS NULL OR n.id IS NULL OR (u.legacy_verified_at IS NOT NULL) IS DISTINCT FROM n.email_verified "
                + "OR u.label IS NULL OR lower(u.label) IS DISTINCT FROM n.label_key OR u.name IS DISTINCT FROM n.name");
    }

    static void seed(Database db) throws SQLException {
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            s.execute("CREATE TABLE public.users (id bigserial PRIMARY KEY, name text NOT NULL, "
                    + "legacy_verified_at timestamptz, label text NOT NULL)");
            s.execute("INSERT INTO public.users SELECT g, 'user ' || g, CASE WHEN g % 3 = 0 THEN '2020-01-01'::timestamptz END, "
                    + "'Label ' || g FROM generate_series(1, " + ROWS + ") g");
            s.execute("SELECT setval('public.users_id_seq', " + ROWS + ")");
            s.execute("ANALYZE public.users");
        }
        CatalogSchema.migrate(db);
    }

    static void register(Database db) {
        register(db, NAME);
    }

    static void register(Database db, String name) {
        String yaml = """
                name: %s
                source:
                  table: users
                mode: table
                target:
                  table: users_v2
                  columns:
                    - name: name
                      type: text
                      transform: name
                    - name: email_verified
                      type: boolean
                      transform: legacy_verified_at IS NOT NULL
                    - name: label_key
                      type: text
                      transform: lower(label)
                backfill:
                  chunkRows: 400
                  batchRows: 100
                reconcile:
                  rangeRows: 1000
                  interval: 2s
                  recheckAfter: 1s
                switch:
                  cleanFor: 1s
                writes:
                  switch: true
                  reverse:
                    name: name
                    legacy_verified_at: "CASE WHEN email_verified THEN coalesce(legacy_verified_at, '%s'::timestamptz) END"
                    label: "CASE WHEN lower(label) = label_key THEN label ELSE label_key END"
                  cleanFor: 6s
                  flagPropagation: 1s
                contract:
                  quietPeriod: 3s
                """.formatted(name, EPOCH);
        MigrationSpec spec = new SpecReader().read(name + ".yaml", yaml);
        new Catalog(db, "test").create(spec.name(), SpecJson.write(spec), yaml, "test");
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

    private static boolean notNull(Database db, String column) throws SQLException {
        return DriverIT.count(db, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.users'::regclass "
                + "AND attname = '" + column + "' AND attnotnull") == 1;
    }

    static Map<Long, String> newShape(Database db) throws SQLException {
        Map<Long, String> out = new TreeMap<>();
        try (Connection c = db.connect("test-check"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, email_verified, label_key FROM public.users_v2")) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getBoolean(2) + "|" + rs.getString(3));
            }
        }
        return out;
    }

    static Map<Long, String> oldShape(Database db) throws SQLException {
        Map<Long, String> out = new TreeMap<>();
        try (Connection c = db.connect("test-check"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, legacy_verified_at IS NOT NULL, label FROM public.users")) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getBoolean(2) + "|" + rs.getString(3));
            }
        }
        return out;
    }

    /** What the application wrote, per key, as the old table holds it (the reverse transforms re-implemented). */
    static final class Model {
        private final Map<Long, Boolean> verified = new HashMap<>();
        private final Map<Long, String> label = new HashMap<>();

        Model() {
            for (long g = 1; g <= ROWS; g++) {
                verified.put(g, g % 3 == 0);
                label.put(g, "Label " + g);
            }
        }

        synchronized void writeOld(long id, boolean v, String l) {
            verified.put(id, v);
            label.put(id, l);
        }

        /** A write of the new table only: the old row is what the reverse transforms make of it (none yet: a new one). */
        synchronized void writeNew(long id, boolean v, String key) {
            verified.put(id, v);
            String current = label.get(id);
            label.put(id, current != null && current.toLowerCase(Locale.ROOT).equals(key) ? current : key);
        }

        synchronized void delete(long id) {
            verified.remove(id);
            label.remove(id);
        }

        /**
         * A key change of the new row: the reverse sync deletes the old key's old row and inserts one
         * for the new key with no current old row, so its label is the new row's label_key.
         */
        synchronized void move(long id, long to) {
            boolean v = verified.remove(id);
            String l = label.remove(id);
            verified.put(to, v);
            label.put(to, l.toLowerCase(Locale.ROOT));
        }

        synchronized boolean has(long id) {
            return verified.containsKey(id);
        }

        synchronized String label(long id) {
            return label.get(id);
        }

        synchronized Map<Long, String> newShape() {
            Map<Long, String> out = new TreeMap<>();
            verified.forEach((id, v) -> out.put(id, v + "|" + label.get(id).toLowerCase(Locale.ROOT)));
            return out;
        }

        synchronized Map<Long, String> oldShape() {
            Map<Long, String> out = new TreeMap<>();
            verified.forEach((id, v) -> out.put(id, v + "|" + label.get(id)));
            return out;
        }
    }

    /**
     * One application instance on its own connection, writing the keys of one parity, each write in
     * one transaction. Old code writes the old table; dual code writes both (the new one by upsert);
     * once told to honour the write flag it writes only the new table while {@code <name>.write-new}
     * is on and both while it is off. After the rollback drops the new table it writes the old table
     * only (redeployed).
     */
    static final class Instance implements WriteSwitchCrashIT.App {
        private final Database app;
        private final Model model;
        private final int parity;
        private final String name;
        private final AtomicLong newOnly = new AtomicLong();
        private final AtomicLong newOnlyInserts = new AtomicLong();
        private final AtomicLong newOnlyDeletes = new AtomicLong();
        private final AtomicLong keyChanges = new AtomicLong();
        private final List<Long> newTableKeys = java.util.Collections.synchronizedList(new ArrayList<>());
        private final List<Long> oldKeysAfterNew = java.util.Collections.synchronizedList(new ArrayList<>());
        private volatile boolean dual;
        private volatile boolean honour;
        private volatile boolean oldOnlyForGood;
        private volatile boolean stop;
        private volatile boolean paused;
        private volatile Throwable failure;
        private Thread thread;
        private Connection connection;
        private FlagClient flags;

        private final String migration;

        Instance(Database app, Model model, int parity, String name) {
            this(app, model, parity, name, NAME);
        }

        Instance(Database app, Model model, int parity, String name, String migration) {
            this.app = app;
            this.model = model;
            this.parity = parity;
            this.name = name;
            this.migration = migration;
        }

        @Override
        public void start() throws SQLException {
            connection = java.sql.DriverManager.getConnection(app.jdbcUrl(), app.user(), app.password());
            connection.setAutoCommit(false);
            flags = new FlagClient(app, new FlagClient.Options(Duration.ofMillis(200), Duration.ofSeconds(5)));
            thread = new Thread(this::run, "write-switch-table-app-" + name);
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void deployDualWrites() {
            dual = true;
        }

        @Override
        public void honourWriteFlag() {
            honour = true;
        }

        @Override
        public void pause() throws InterruptedException {
            paused = true;
            synchronized (model) {
                Thread.sleep(1);
            }
        }

        void resume() {
            paused = false;
        }

        @Override
        public long newOnlyWrites() {
            return newOnly.get();
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

        @Override
        public Throwable failure() {
            return failure;
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

        /** One dual write whose new row is wrong (email_verified inverted); false if the key is gone. */
        boolean writeWrongNewShape(long id) throws SQLException {
            synchronized (model) {
                if (!model.has(id)) {
                    return false;
                }
                try (Connection c = java.sql.DriverManager.getConnection(app.jdbcUrl(), app.user(), app.password())) {
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
                }
                model.writeOld(id, true, model.label(id));
                return true;
            }
        }

        private void run() {
            Random random = new Random(37 + parity);
            long next = 1_000_000 + parity;
            try {
                while (!stop) {
                    if (paused) {
                        Thread.sleep(20);
                        continue;
                    }
                    boolean newOnlyMode = honour && !oldOnlyForGood && flags.isOn(migration + ".write-new");
                    int op = random.nextInt(20);
                    long id = 2L * (1 + random.nextInt(ROWS / 2)) - (parity == 1 ? 1 : 0);
                    boolean v = random.nextBoolean();
                    synchronized (model) {
                        try {
                            if (op < 12) {
                                update(id, v, newOnlyMode, random);
                            } else if (op < 17) {
                                insert(next, v, newOnlyMode);
                                next += 2;
                            } else if (op == 19 && newOnlyMode && model.has(id)) {
                                moveKey(id);
                            } else if (model.has(id)) {
                                delete(id, newOnlyMode);
                            }
                            connection.commit();
                        } catch (SQLException e) {
                            connection.rollback();
                            if ("42P01".equals(e.getSQLState()) && !oldOnlyForGood) {
                                oldOnlyForGood = true; // the rollback dropped the new table: redeployed old code
                                continue;
                            }
                            throw e;
                        }
                    }
                    Thread.sleep(5);
                }
            } catch (Throwable e) {
                if (!stop) {
                    failure = e;
                }
            }
        }

        private boolean both() {
            return dual && !oldOnlyForGood;
        }

        private void update(long id, boolean v, boolean newOnlyMode, Random random) throws SQLException {
            if (!model.has(id)) {
                return;
            }
            String l = "Label " + id + " v" + random.nextInt(1000);
            String key = l.toLowerCase(Locale.ROOT);
            if (newOnlyMode) {
                String written = random.nextBoolean() ? key : key + "-x";
                try (PreparedStatement ps = connection.prepareStatement(
                        "UPDATE public.users_v2 SET email_verified = ?, label_key = ? WHERE id = ?")) {
                    ps.setBoolean(1, v);
                    ps.setString(2, written);
                    ps.setLong(3, id);
                    ps.executeUpdate();
                }
                connection.commit();
                model.writeNew(id, v, written);
                newOnly.incrementAndGet();
                return;
            }
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

        @Override
        public void close() throws Exception {
            stop = true;
            if (thread != null) {
                thread.join(10_000);
            }
            if (flags != null) {
                flags.close();
            }
            if (connection != null) {
                connection.close();
            }
        }
    }
}
