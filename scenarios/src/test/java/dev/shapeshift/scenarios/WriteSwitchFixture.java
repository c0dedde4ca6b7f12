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
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.flag.FlagClient;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.worker.Worker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * What the write switch's scenarios share, in place ({@link WriteSwitchIT}) and in table mode
 * ({@link WriteSwitchTableIT}), and their crash cases ({@link WriteSwitchCrashIT}): the seeded
 * {@code users} table, the independent {@link Model} of what the application wrote, the
 * {@link Instance} plumbing of an application instance, the operator's steps and the checks the
 * scenarios run alike. What differs between the two modes (the table, the instances' SQL, the
 * reverse check) stays in each test class, behind {@link Layout}.
 */
final class WriteSwitchFixture {
    /** Rows the {@code users} table is seeded with (and the model). */
    static final int ROWS = 2000;

    private WriteSwitchFixture() {
    }

    /** Something done to the database that may fail. */
    interface DbStep {
        void run(Database db) throws SQLException;
    }

    /** Something read from the database. */
    interface DbQuery<T> {
        T read(Database db) throws SQLException;
    }

    /** The application's role, with what it may do. */
    interface AppRole {
        Database create(Database db, PostgresServer pg, String dbName) throws SQLException;
    }

    /** An application instance of the mode. */
    interface Instances<I extends Instance> {
        I create(Database app, Model model, int parity, String name, String migration);
    }

    /**
     * What a write-switch scenario needs of its mode, so the crash cases run the same faults over
     * either one.
     *
     * @param newTable              the table application instances write the new shape to once writes switched
     * @param what                  "shape" (in place) or "table" (table mode), as the checks name what they compare
     * @param oldDiffersFromReverse rows whose old shape is not what the reverse transforms give for the new shape
     */
    record Layout<I extends Instance>(DbStep seed, java.util.function.BiConsumer<Database, String> register, AppRole appRole,
                  Instances<I> instances, String newTable, String what, DbQuery<Long> oldDiffersFromReverse,
                  DbQuery<Map<Long, String>> newShape, DbQuery<Map<Long, String>> oldShape) {
    }

    /**
     * One write-switch scenario on the real stack in process: {@code layout}'s table seeded and its
     * spec registered as {@code name}, the application's role, a driving coordinator, the Debezium
     * bridge, two workers and two application instances {@code a} (odd keys) and {@code b} (even
     * keys) over one {@link Model}. {@link #stopApps} stops the instances and the workers; closing
     * stops the bridge and the coordinator and drops the slot.
     */
    static final class Stage<I extends Instance> implements AutoCloseable {
        final Database db;
        final Catalog catalog;
        final Database app;
        final Transitions operator;
        final Model model = new Model();
        final I a;
        final I b;
        private final String name;
        private final BridgeConfig bridgeConfig;
        private final Coordinator coordinator;
        private final CdcBridge bridge;
        private final List<Worker> workers;

        Stage(PostgresServer pg, KafkaBroker kafka, Layout<I> layout, String name, String database) throws Exception {
            this.name = name;
            String dbName = pg.createDatabase(database);
            db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
            layout.seed().run(db);
            layout.register().accept(db, name);
            catalog = new Catalog(db, "test");
            app = layout.appRole().create(db, pg, dbName);
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            bridgeConfig = DriverIT.bridge(DriverIT.bridgeRole(db, pg, dbName), kafka);
            operator = GateWiring.transitions(db, "operator");
            coordinator = DriverIT.coordinator(db, kafka, registry);
            CdcBridge started = null;
            try {
                started = new CdcBridge(bridgeConfig, registry);
                started.start();
                workers = DriverIT.workers(db, kafka, name, registry);
            } catch (Exception | Error e) {
                if (started != null) {
                    started.close();
                }
                coordinator.close();
                DriverIT.dropSlot(db, bridgeConfig.slot());
                throw e;
            }
            bridge = started;
            a = layout.instances().create(app, model, 1, "a", name);
            b = layout.instances().create(app, model, 0, "b", name);
        }

        /** Starts both instances and waits until the driver took the migration to verified. */
        private void startAppsUntilVerified() throws SQLException {
            a.start();
            b.start();
            DriverIT.awaitPhase(db, name, Phase.VERIFIED, Duration.ofMinutes(4));
        }

        /**
         * The opening of both write switch scenarios: verified under the instances' writes
         * ({@link #startAppsUntilVerified}), ten wrong dual writes reported
         * ({@link WriteSwitchFixture#tenWrongDualWritesAreReported}), then — a clean
         * {@code writes.cleanFor} later the gate opens — the read switch: the read flag on, the old
         * column {@code label} still NOT NULL.
         */
        void verifiedThenDualWritesThenReadsSwitched() throws Exception {
            startAppsUntilVerified();
            tenWrongDualWritesAreReported(db, catalog, operator, name, a, b);
            advance(operator, name, Phase.READS_SWITCHED);
            assertThat(flag(db, name + ".read-new")).isTrue();
            assertThat(notNull(db, "label")).as("NOT NULL before the write switch").isTrue();
        }

        void stopApps() throws Exception {
            a.close();
            b.close();
            workers.forEach(Worker::close);
        }

        @Override
        public void close() throws Exception {
            try {
                bridge.close();
                coordinator.close();
            } finally {
                DriverIT.dropSlot(db, bridgeConfig.slot());
            }
        }
    }

    private static final String EPOCH = "2000-01-01 00:00:00+00";

    /** The new columns of both modes, computed from the old ones (spec YAML, under {@code target.columns}). */
    static final String NEW_COLUMNS = """
                - name: email_verified
                  type: boolean
                  transform: legacy_verified_at IS NOT NULL
                - name: label_key
                  type: text
                  transform: lower(label)
            """;

    /**
     * The spec YAML after the target: the driver's pace and the write switch, with the reverse
     * transforms of the old columns ({@code reverse}: more of them before those, indented).
     */
    static String switchSettings(String reverse) {
        return DriverIT.PACE + """
                writes:
                  switch: true
                  reverse:
                %s    legacy_verified_at: "CASE WHEN email_verified THEN coalesce(legacy_verified_at, '%s'::timestamptz) END"
                    label: "CASE WHEN lower(label) = label_key THEN label ELSE label_key END"
                  cleanFor: 6s
                  flagPropagation: 1s
                """.formatted(reverse, EPOCH);
    }

    /**
     * Creates {@code public.users} ({@code id} of type {@code idType}) with {@link #ROWS} rows —
     * every third verified, labels {@code Label <id>} — plus pg_stat_statements and the catalog.
     */
    static void seed(Database db, String idType) throws SQLException {
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            s.execute("CREATE TABLE public.users (id " + idType + " PRIMARY KEY, name text NOT NULL, "
                    + "legacy_verified_at timestamptz, label text NOT NULL)");
            s.execute("INSERT INTO public.users SELECT g, 'user ' || g, CASE WHEN g % 3 = 0 THEN '2020-01-01'::timestamptz END, "
                    + "'Label ' || g FROM generate_series(1, " + ROWS + ") g");
            if (idType.equals("bigserial")) {
                s.execute("SELECT setval('public.users_id_seq', " + ROWS + ")");
            }
            s.execute("ANALYZE public.users");
        }
        CatalogSchema.migrate(db);
    }

    /** The operator moves {@code name} to {@code to}, retrying while the gate is still closed. */
    static void advance(Transitions operator, String name, Phase to) {
        try {
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> operator.advance(name, to, "operator", "test approves " + to).phase() == to);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("gate " + to + " stayed closed: " + operator.check(name, to).checks(), e);
        }
    }

    static boolean flag(Database db, String name) throws SQLException {
        return DriverIT.count(db, "SELECT count(*) FROM shapeshift.flag WHERE name = '" + name + "' AND value") == 1;
    }

    /** Whether {@code public.users.<column>} is NOT NULL. */
    static boolean notNull(Database db, String column) throws SQLException {
        return DriverIT.count(db, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.users'::regclass "
                + "AND attname = '" + column + "' AND attnotnull") == 1;
    }

    /** {@code select} gives (id, verified, label or key) per row: as {@code id -> "verified|label"}. */
    static Map<Long, String> shape(Database db, String select) throws SQLException {
        Map<Long, String> out = new TreeMap<>();
        try (Connection c = db.connect("test-check"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(select)) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getBoolean(2) + "|" + rs.getString(3));
            }
        }
        return out;
    }

    /**
     * Once verified: the instances roll to dual-write code, the operator moves to dual-writes. New
     * code that computes the new shape wrongly on 10 keys: exactly those are reported as
     * {@code dual-write-mismatch}, and the gate to reads-switched stays closed on them. ({@code b}
     * pauses meanwhile, so no correct write of one of those keys reaches the sync first.)
     */
    static void tenWrongDualWritesAreReported(Database db, Catalog catalog, Transitions operator, String name,
                                              Instance a, Instance b) throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> catalog.get(name).message(),
                m -> m != null && m.contains("--to dual-writes"));

        // The application rolls to the version that writes both shapes, then the operator says so.
        a.deployDualWrites();
        b.deployDualWrites();
        Thread.sleep(1500);
        advance(operator, name, Phase.DUAL_WRITES);

        b.pause();
        Set<String> wrong = new TreeSet<>();
        for (long id = 2; wrong.size() < 10; id += 2) {
            if (b.writeWrongNewShape(id)) {
                wrong.add("[\"" + id + "\"]");
            }
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                .until(() -> new TreeSet<>(DriverIT.rows(db, "SELECT key::text FROM shapeshift.write_mismatch "
                        + "WHERE migration = '" + name + "'")), s -> s.size() >= wrong.size());
        assertThat(new TreeSet<>(DriverIT.rows(db, "SELECT key::text FROM shapeshift.write_mismatch WHERE "
                + "migration = '" + name + "' AND kind = 'dual-write-mismatch'"))).isEqualTo(wrong);
        b.resume();
        GateReport closed = operator.check(name, Phase.READS_SWITCHED);
        assertThat(closed.checks()).filteredOn(c -> c.name().equals("dual-writes-clean"))
                .singleElement().matches(c -> !c.passed(), "closed on the mismatches");
    }

    /**
     * A rolling switch: {@code b} sees the write flag now, {@code a} a little later; waits until
     * {@code enough} holds (failing at once when an instance failed), then one more second.
     */
    static void rollingWriteSwitch(Instance a, Instance b, BooleanSupplier enough) throws InterruptedException {
        b.honourWriteFlag();
        Thread.sleep(1500);
        a.honourWriteFlag();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            if (a.failure() != null || b.failure() != null) {
                throw new AssertionError("an application instance failed", a.failure() != null ? a.failure() : b.failure());
            }
            return enough.getAsBoolean();
        });
        Thread.sleep(1000);
    }

    /**
     * Rollback under load: the write flag goes off, the instances go back to dual writes, the
     * reverse sync drains, then the new {@code dropped} ("column(s)" or "table") goes.
     */
    static void rollBackUnderLoad(Database db, Transitions operator, String name, String dropped, Instance a, Instance b) {
        Rollback.Result r = new Rollback(db, operator, null).rollback(name, "operator", "drill: roll back "
                + "after the write switch", false);
        assertThat(r.done()).anyMatch(s -> s.contains("write flag off"))
                .anyMatch(s -> s.contains("sync runs forward again"))
                .anyMatch(s -> s.contains("dropped new " + dropped));
        assertThat(a.newOnlyWrites() + b.newOnlyWrites()).isGreaterThan(40);
    }

    /** After the rollback: no instance failed, the migration is rolled back, the write flag off. */
    static void rolledBack(Database db, Catalog catalog, String name, Instance a, Instance b) throws SQLException {
        assertThat(a.failure()).as("instance a failed").isNull();
        assertThat(b.failure()).as("instance b failed").isNull();
        assertThat(catalog.get(name).phase()).isEqualTo(Phase.ROLLED_BACK);
        assertThat(flag(db, name + ".write-new")).isFalse();
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

        /**
         * A write of the new shape only: the old shape is what the reverse transforms make of it
         * (in table mode, for a new key, none yet: a new one).
         */
        synchronized void writeNew(long id, boolean v, String key) {
            verified.put(id, v);
            String current = label.get(id);
            label.put(id, current != null && current.toLowerCase(Locale.ROOT).equals(key) ? current : key);
        }

        /**
         * In place, an instance of the old code, after the write switch: it sets the old column
         * {@code label} alone; the reverse sync then overwrites it with reverse(new, old) =
         * label_key. False when the key is gone.
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

        /**
         * In table mode, a key change of the new row: the reverse sync deletes the old key's old row
         * and inserts one for the new key with no current old row, so its label is the new row's
         * label_key.
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
     * One application instance on its own connection, writing the keys of one parity, seeded. Old
     * code writes the old shape; dual code writes both; once told to honour the write flag it writes
     * only the new shape while {@code <migration>.write-new} is on and both while it is off. After
     * the rollback drops the new shape (SQLSTATE {@code dropped}) it writes the old shape only
     * (redeployed). Each mode says what one write of each kind is ({@link #write}).
     */
    abstract static class Instance implements WriteSwitchCrashIT.App {
        protected final Database app;
        protected final Model model;
        protected final AtomicLong newOnly = new AtomicLong();
        protected Connection connection;
        private final int parity;
        private final String name;
        private final String migration;
        private final int seed;
        private final String dropped;
        private final boolean autoCommit;
        private final String newTable;
        private volatile boolean dual;
        private volatile boolean honour;
        private volatile boolean oldOnlyForGood;
        private volatile boolean stop;
        private volatile boolean paused;
        private volatile Throwable failure;
        private Thread thread;
        private FlagClient flags;

        /**
         * @param seed       the seed of its random writes (plus the parity)
         * @param dropped    the SQLSTATE its writes of the new shape fail with once the rollback dropped it
         * @param autoCommit false: each write is one transaction, committed (or rolled back) here
         * @param newTable   the table it writes the new shape to
         */
        Instance(Database app, Model model, int parity, String name, String migration, int seed, String dropped,
                 boolean autoCommit, String newTable) {
            this.app = app;
            this.model = model;
            this.parity = parity;
            this.name = name;
            this.migration = migration;
            this.seed = seed;
            this.dropped = dropped;
            this.autoCommit = autoCommit;
            this.newTable = newTable;
        }

        /** The name of its thread, for {@code name}. */
        abstract String threadName(String name);

        /**
         * One write (under the model's lock): {@code op} in [0, 20), a key {@code id} of its parity,
         * the next free key {@code next}; true when it used {@code next}.
         */
        abstract boolean write(int op, long id, long next, boolean v, boolean newOnlyMode, Random random)
                throws SQLException;

        /** Writes the old shape of {@code id} as verified and its new shape wrongly, on {@code c}; false if the key is gone. */
        abstract boolean writeWrongNewShape(Connection c, long id) throws SQLException;

        /** A write of the old shape (and the new one too, when {@link #both}) of {@code id}: verified {@code v}, label {@code l}. */
        abstract void updateOld(long id, boolean v, String l) throws SQLException;

        /** One dual write whose new shape is wrong (email_verified inverted); false if the key is gone. */
        final boolean writeWrongNewShape(long id) throws SQLException {
            synchronized (model) {
                if (!model.has(id)) {
                    return false;
                }
                try (Connection c = java.sql.DriverManager.getConnection(app.jdbcUrl(), app.user(), app.password())) {
                    if (!writeWrongNewShape(c, id)) {
                        return false;
                    }
                }
                model.writeOld(id, true, model.label(id));
                return true;
            }
        }

        /**
         * An update of {@code id} with a fresh label: of the new shape only in {@code newOnlyMode}
         * (label_key as the label gives it or not, at random), else through {@link #updateOld}.
         */
        final void update(long id, boolean v, boolean newOnlyMode, Random random) throws SQLException {
            if (!model.has(id)) {
                return;
            }
            String l = "Label " + id + " v" + random.nextInt(1000);
            String key = l.toLowerCase(Locale.ROOT);
            if (newOnlyMode) {
                String written = random.nextBoolean() ? key : key + "-x";
                try (PreparedStatement ps = connection.prepareStatement(
                        "UPDATE " + newTable + " SET email_verified = ?, label_key = ? WHERE id = ?")) {
                    ps.setBoolean(1, v);
                    ps.setString(2, written);
                    ps.setLong(3, id);
                    ps.executeUpdate();
                }
                if (!autoCommit) {
                    connection.commit();
                }
                model.writeNew(id, v, written);
                newOnly.incrementAndGet();
                return;
            }
            updateOld(id, v, l);
        }

        /** Whether it writes both shapes (dual code, and the new shape still there). */
        boolean both() {
            return dual && !oldOnlyForGood;
        }

        @Override
        public void start() throws SQLException {
            connection = java.sql.DriverManager.getConnection(app.jdbcUrl(), app.user(), app.password());
            connection.setAutoCommit(autoCommit);
            flags = new FlagClient(app, new FlagClient.Options(Duration.ofMillis(200), Duration.ofSeconds(5)));
            thread = new Thread(this::run, threadName(name));
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

        private void run() {
            Random random = new Random(seed + parity);
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
                            if (write(op, id, next, v, newOnlyMode, random)) {
                                next += 2;
                            }
                            if (!autoCommit) {
                                connection.commit();
                            }
                        } catch (SQLException e) {
                            if (!autoCommit) {
                                connection.rollback();
                            }
                            if (dropped.equals(e.getSQLState()) && !oldOnlyForGood) {
                                oldOnlyForGood = true; // the rollback dropped the new shape: redeployed old code
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
