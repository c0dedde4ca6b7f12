package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.contract.Cleanup;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
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
    private static final int ROWS = 2000;
    static final String NAME = "users-ws";
    private static final String EPOCH = "2000-01-01 00:00:00+00";

    @Test
    void dualWritesThenWritesSwitchThenRollbackUnderLoad(PostgresServer pg, KafkaBroker kafka) throws Exception {
        String dbName = pg.createDatabase("write_switch");
        Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        seed(db);
        register(db);
        Catalog catalog = new Catalog(db, "test");
        Database app = appRole(db, pg, dbName);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        BridgeConfig bridgeConfig = DriverIT.bridge(DriverIT.bridgeRole(db, pg, dbName), kafka);
        Transitions operator = GateWiring.transitions(db, "operator");
        Model model = new Model();
        try (Coordinator coordinator = DriverIT.coordinator(db, kafka, registry);
             CdcBridge bridge = new CdcBridge(bridgeConfig, registry)) {
            bridge.start();
            List<Worker> workers = DriverIT.workers(db, kafka, NAME, registry);
            Instance a = new Instance(app, model, 1, "a");
            Instance b = new Instance(app, model, 0, "b");
            WriteSwitchTableIT.OldCodeWriter oldCode = new WriteSwitchTableIT.OldCodeWriter(app, NAME,
                    "UPDATE public.users SET label = $", (c, id) -> model.writeOldCode(c, id));
            try {
                a.start();
                b.start();
                DriverIT.awaitPhase(db, NAME, Phase.VERIFIED, Duration.ofMinutes(4));
                await().atMost(Duration.ofSeconds(30)).until(() -> catalog.get(NAME).message(),
                        m -> m != null && m.contains("--to dual-writes"));

                // The application rolls to the version that writes both shapes, then the operator says so.
                a.deployDualWrites();
                b.deployDualWrites();
                Thread.sleep(1500);
                advance(operator, Phase.DUAL_WRITES);

                // New code that computes the new shape wrongly on 10 keys: exactly those are reported.
                // (b pauses meanwhile, so no correct write of one of those keys reaches the sync first.)
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

                // A clean writes.cleanFor later the gate opens: reads switch, then writes.
                advance(operator, Phase.READS_SWITCHED);
                assertThat(flag(db, NAME + ".read-new")).isTrue();
                assertThat(notNull(db, "label")).as("NOT NULL before the write switch").isTrue();
                advance(operator, Phase.WRITES_SWITCHED);
                assertThat(flag(db, NAME + ".write-new")).isTrue();
                assertThat(notNull(db, "label")).as("relaxed by the write switch").isFalse();
                assertThat(DriverIT.rows(db, "SELECT sync_direction FROM shapeshift.migration WHERE name = '" + NAME + "'"))
                        .containsExactly("reverse");
                assertThat(replicaIdentity(db)).as("FULL after the write switch: before images of UPDATEs").isEqualTo("f");
                // A rolling switch: b sees the write flag now; a keeps dual-writing a little longer.
                b.honourWriteFlag();
                Thread.sleep(1500);
                a.honourWriteFlag();
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    if (a.failure() != null || b.failure() != null) {
                        throw new AssertionError("an application instance failed", a.failure() != null ? a.failure() : b.failure());
                    }
                    return a.newOnlyWrites() > 20 && b.newOnlyWrites() > 20;
                });
                Thread.sleep(1000);

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
                assertThat(newShape(db)).as("the new shape is what the application wrote").isEqualTo(model.newShape());
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
                Rollback.Result r = new Rollback(db, operator, null).rollback(NAME, "operator", "drill: roll back "
                        + "after the write switch", false);
                assertThat(r.done()).anyMatch(s -> s.contains("write flag off"))
                        .anyMatch(s -> s.contains("sync runs forward again"))
                        .anyMatch(s -> s.contains("dropped new column(s)"));
                assertThat(a.newOnlyWrites() + b.newOnlyWrites()).isGreaterThan(40);
                Thread.sleep(500); // the application keeps writing the old shape after the rollback
            } finally {
                oldCode.stop();
                a.close();
                b.close();
                workers.forEach(Worker::close);
            }
            assertThat(a.failure()).as("instance a failed").isNull();
            assertThat(b.failure()).as("instance b failed").isNull();
            assertThat(catalog.get(NAME).phase()).isEqualTo(Phase.ROLLED_BACK);
            assertThat(flag(db, NAME + ".read-new")).isFalse();
            assertThat(flag(db, NAME + ".write-new")).isFalse();
            assertThat(notNull(db, "label")).as("NOT NULL restored, validated").isTrue();
            assertThat(replicaIdentity(db)).as("the replica identity the table had before the write switch").isEqualTo("d");
            assertThat(oldShape(db)).as("the old shape equals what the application wrote").isEqualTo(model.oldShape());
        } finally {
            DriverIT.dropSlot(db, bridgeConfig.slot());
        }
    }

    static void advance(Transitions operator, Phase to) {
        advance(operator, NAME, to);
    }

    static void advance(Transitions operator, String name, Phase to) {
        try {
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> operator.advance(name, to, "operator", "test approves " + to).phase() == to);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("gate " + to + " stayed closed: " + operator.check(name, to).checks(), e);
        }
    }

    /** Rows whose old columns are not what the reverse transforms give for their new columns. */
    static long oldDiffersFromReverse(Database db) throws SQLException {
        return DriverIT.count(db, "SELECT count(*) FROM public.users WHERE (legacy_verified_at IS NOT NULL) "
                + "IS DISTINCT FROM email_verified OR label IS NULL OR lower(label) IS DISTINCT FROM label_key");
    }

    static void seed(Database db) throws SQLException {
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            s.execute("CREATE TABLE public.users (id bigint PRIMARY KEY, name text NOT NULL, "
                    + "legacy_verified_at timestamptz, label text NOT NULL)");
            s.execute("INSERT INTO public.users SELECT g, 'user ' || g, CASE WHEN g % 3 = 0 THEN '2020-01-01'::timestamptz END, "
                    + "'Label ' || g FROM generate_series(1, " + ROWS + ") g");
            s.execute("ANALYZE public.users");
        }
        CatalogSchema.migrate(db);
    }

    static void register(Database db) {
        register(db, NAME);
    }

    /** Registers the spec under {@code name}: test classes sharing one Kafka broker never share a name (topics, groups). */
    static void register(Database db, String name) {
        String yaml = """
                name: %s
                source:
                  table: users
                target:
                  columns:
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
                    legacy_verified_at: "CASE WHEN email_verified THEN coalesce(legacy_verified_at, '%s'::timestamptz) END"
                    label: "CASE WHEN lower(label) = label_key THEN label ELSE label_key END"
                  cleanFor: 6s
                  flagPropagation: 1s
                contract:
                  dropColumns: [legacy_verified_at, label]
                  quietPeriod: 3s
                """.formatted(name, EPOCH);
        MigrationSpec spec = new SpecReader().read(name + ".yaml", yaml);
        new Catalog(db, "test").create(spec.name(), SpecJson.write(spec), yaml, "test");
    }

    static Database appRole(Database db, PostgresServer pg, String dbName) throws SQLException {
        Database app = DriverIT.appRole(db, pg, dbName);
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("GRANT USAGE ON SCHEMA shapeshift TO " + app.user());
            s.execute("GRANT SELECT ON shapeshift.flag TO " + app.user());
        }
        return app;
    }

    static boolean flag(Database db, String name) throws SQLException {
        return DriverIT.count(db, "SELECT count(*) FROM shapeshift.flag WHERE name = '" + name + "' AND value") == 1;
    }

    private static String replicaIdentity(Database db) throws SQLException {
        return DriverIT.rows(db, "SELECT relreplident::text FROM pg_class WHERE oid = 'public.users'::regclass").get(0);
    }

    private static boolean notNull(Database db, String column) throws SQLException {
        return DriverIT.count(db, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.users'::regclass "
                + "AND attname = '" + column + "' AND attnotnull") == 1;
    }

    static Map<Long, String> newShape(Database db) throws SQLException {
        Map<Long, String> out = new TreeMap<>();
        try (Connection c = db.connect("test-check"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, email_verified, label_key FROM public.users")) {
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

    /**
     * What the application wrote, per key: the old shape (verified?, label) as the application and
     * the reverse transforms (re-implemented here) leave it. Seeded like the table.
     */
    static final class Model {
        private final Map<Long, Boolean> verified = new HashMap<>();
        private final Map<Long, String> label = new HashMap<>();

        Model() {
            for (long g = 1; g <= ROWS; g++) {
                verified.put(g, g % 3 == 0);
                label.put(g, "Label " + g);
            }
        }

        /** A write of the old shape (old-only or dual code): the old values as written. */
        synchronized void writeOld(long id, boolean v, String l) {
            verified.put(id, v);
            label.put(id, l);
        }

        /** A write of the new shape only: the old shape is what the reverse transforms make of it. */
        synchronized void writeNew(long id, boolean v, String key) {
            verified.put(id, v);
            String current = label.get(id);
            label.put(id, current != null && current.toLowerCase(Locale.ROOT).equals(key) ? current : key);
        }

        /**
         * An instance of the old code, after the write switch: it sets the old column {@code label}
         * alone; the reverse sync then overwrites it with reverse(new, old) = label_key. False when
         * the key is gone.
         */
        synchronized boolean writeOldCode(Connection c, long id) throws SQLException {
            if (!has(id)) {
                return false;
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE public.users SET label = 'Old ' || id WHERE id = ?")) {
                ps.setLong(1, id);
                if (ps.executeUpdate() != 1) {
                    return false;
                }
            }
            boolean v = verified.get(id);
            String key = label.get(id).toLowerCase(Locale.ROOT);
            writeOld(id, v, "Old " + id);
            writeNew(id, v, key);
            return true;
        }

        synchronized void delete(long id) {
            verified.remove(id);
            label.remove(id);
        }

        synchronized boolean has(long id) {
            return verified.containsKey(id);
        }

        /** The new shape the application wrote or the migration computes: transform(old). */
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
     * One application instance on its own connection, writing the keys of one parity. Old code
     * writes the old shape; dual code writes both (consistently); once told to honour the write flag
     * it writes only the new shape while {@code <name>.write-new} is on and both while it is off.
     * After the rollback drops the new columns it writes the old shape only (redeployed).
     */
    static final class Instance implements WriteSwitchCrashIT.App {
        private final Database app;
        private final Model model;
        private final int parity;
        private final String name;
        private final Map<Long, Boolean> wrongOnce = new ConcurrentHashMap<>();
        private final AtomicLong newOnly = new AtomicLong();
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
            flags = new FlagClient(app, new FlagClient.Options(Duration.ofMillis(200), Duration.ofSeconds(5)));
            thread = new Thread(this::run, "write-switch-app-" + name);
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

        /** Stops writing (after the write in progress) until {@link #resume}. */
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

        @Override
        public Throwable failure() {
            return failure;
        }

        /** One dual write whose new shape is wrong (email_verified inverted); false if the key is gone. */
        boolean writeWrongNewShape(long id) throws SQLException {
            synchronized (model) {
                if (!model.has(id)) {
                    return false;
                }
                try (Connection c = java.sql.DriverManager.getConnection(app.jdbcUrl(), app.user(), app.password());
                     PreparedStatement ps = c.prepareStatement("UPDATE public.users SET legacy_verified_at = "
                             + "'2021-01-01'::timestamptz, email_verified = false WHERE id = ?")) {
                    ps.setLong(1, id);
                    if (ps.executeUpdate() != 1) {
                        return false;
                    }
                }
                model.writeOld(id, true, model.oldShape().get(id).split("\\|", 2)[1]);
                return true;
            }
        }

        private void run() {
            Random random = new Random(31 + parity);
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
                            } else if (op < 18) {
                                insert(next, v, newOnlyMode);
                                next += 2;
                            } else if (model.has(id)) {
                                try (PreparedStatement ps = connection.prepareStatement("DELETE FROM public.users WHERE id = ?")) {
                                    ps.setLong(1, id);
                                    ps.executeUpdate();
                                }
                                model.delete(id);
                            }
                        } catch (SQLException e) {
                            if ("42703".equals(e.getSQLState()) && !oldOnlyForGood) {
                                oldOnlyForGood = true; // the new columns were dropped by the rollback: redeployed old code
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

        private void update(long id, boolean v, boolean newOnlyMode, Random random) throws SQLException {
            if (!model.has(id)) {
                return;
            }
            String l = "Label " + id + " v" + random.nextInt(1000);
            String key = l.toLowerCase(Locale.ROOT);
            if (newOnlyMode) {
                String written = random.nextBoolean() ? key : key + "-x";
                try (PreparedStatement ps = connection.prepareStatement(
                        "UPDATE public.users SET email_verified = ?, label_key = ? WHERE id = ?")) {
                    ps.setBoolean(1, v);
                    ps.setString(2, written);
                    ps.setLong(3, id);
                    ps.executeUpdate();
                }
                model.writeNew(id, v, written);
                newOnly.incrementAndGet();
                return;
            }
            String sql = dual && !oldOnlyForGood
                    ? "UPDATE public.users SET legacy_verified_at = ?, label = ?, email_verified = ?, label_key = lower(?) WHERE id = ?"
                    : "UPDATE public.users SET legacy_verified_at = ?, label = ? WHERE id = ?";
            try (PreparedStatement ps = connection.prepareStatement(sql)) {
                ps.setObject(1, v ? java.time.OffsetDateTime.parse("2022-02-02T00:00:00Z") : null, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
                ps.setString(2, l);
                if (dual && !oldOnlyForGood) {
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
            boolean both = dual && !oldOnlyForGood;
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
