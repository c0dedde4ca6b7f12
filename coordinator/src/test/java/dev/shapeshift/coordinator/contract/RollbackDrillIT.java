package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FlagStore;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.drive.DriveConfig;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.coordinator.register.Registrar;
import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeyRange;
import dev.shapeshift.refresh.Refresher;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecValidator;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rollback drills: a migration rolled back from expanded, backfilling and reads-switched while an
 * application keeps writing the old shape. After the rollback the old shape equals an independent
 * model of the application's writes, the flag is off, the new column is gone, and the publication
 * and the slot are cleaned up. The migration is registered through {@link Registrar} and expanded
 * by a coordinator's driver through the real gate ({@link #driveToExpanded}); the later phases are
 * reached by setting the phase row (this drills the way back, not the gates, and this module has
 * no bridge or worker to drive them), with sync and backfill simulated by {@link Refresher}
 * running against the live table.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class RollbackDrillIT {
    @ParameterizedTest
    @ValueSource(strings = {"expanded", "syncing", "backfilling", "backfilled", "verified", "dual-writes", "reads-switched",
            "contract-ready"})
    void rollbackUnderWriteLoadLeavesTheOldShapeAsTheAppWroteIt(String from, PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        Database db = Seed.database(pg, "rollback");
        Catalog catalog = new Catalog(db, "test");
        Transitions transitions = new Transitions(catalog);
        setUpTable(db, "users", 400);
        String slot = captured(db, "ss_rb_", "users");
        // From dual-writes: a migration with the write switch, its application writing both shapes
        // (here: one instance still writing only the old one, the case a rollback must not lose).
        boolean writeSwitch = from.equals("dual-writes");
        ResolvedSpec resolved = register(db, kafka, "users-ev", "users", slot, writeSwitch);

        Map<Long, Long> model = new ConcurrentHashMap<>(initialModel(400));
        AtomicBoolean running = new AtomicBoolean(true);
        Thread app = new Thread(() -> appWrites(db, "users", model, running), "app");
        Thread sync = new Thread(() -> sync(db, catalog, resolved, running), "sync");
        app.start();
        sync.start();
        try {
            Thread.sleep(300);
            if (!from.equals("expanded")) {
                Seed.sql(db, "UPDATE shapeshift.migration SET phase = '" + from + "' WHERE name = 'users-ev'");
            }
            if (from.equals("reads-switched") || from.equals("contract-ready")) {
                new FlagStore(catalog).set("users-ev.read-new", "users-ev", true, "test", "reads switched");
            }
            Thread.sleep(500);
            Cleanup cleanup = new Cleanup(db, null, Cleanup.DEFAULT_PUBLICATION, RollbackDrillIT::dropSlot);
            Rollback.Result r = new Rollback(db, transitions, cleanup).rollback("users-ev", "test", "drill from " + from, false);
            assertThat(r.done()).contains("dropped new column(s) [email_verified] of public.users",
                    "dropped publication shapeshift_pub (no active migration left)", "dropped replication slot " + slot);
            Thread.sleep(300); // the application keeps writing after the rollback
        } finally {
            running.set(false);
            app.join();
            sync.join();
        }
        assertThat(catalog.get("users-ev").phase()).isEqualTo(Phase.ROLLED_BACK);
        assertThat(new FlagStore(catalog).find("users-ev.read-new").map(FlagStore.Flag::value)).isIn(Optional.empty(), Optional.of(false));
        assertThat(new FlagStore(catalog).find("users-ev.write-new").map(FlagStore.Flag::value)).isIn(Optional.empty(), Optional.of(false));
        assertThat(Seed.count(db, "SELECT count(*) FROM shapeshift.migration WHERE name = 'users-ev' AND sync_direction = 'forward'"))
                .isOne();
        assertThat(ContractGateIT.columns(db)).containsExactly("id", "email", "legacy_verified_at");
        assertThat(oldShape(db, "users")).isEqualTo(new TreeMap<>(model));
        assertThat(Seed.count(db, "SELECT count(*) FROM pg_publication WHERE pubname = 'shapeshift_pub'")).isZero();
        assertThat(Seed.count(db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'")).isZero();
    }

    /** Two migrations on two tables share one slot and one publication; rolling one back leaves the other whole. */
    @Test
    void twoMigrationsSideBySideShareOneSlot(PostgresServer pg, KafkaBroker kafka) throws Exception {
        Database db = Seed.database(pg, "side");
        Catalog catalog = new Catalog(db, "test");
        Transitions transitions = new Transitions(catalog);
        setUpTable(db, "users", 50);
        setUpTable(db, "orders", 50);
        String slot = captured(db, "ss_side_", "users", "orders");
        register(db, "users-ev", "users");
        register(db, "orders-ev", "orders");
        driveToExpanded(db, kafka, "users-ev", "orders-ev");
        slotRecorded(db, "users-ev", slot);
        slotRecorded(db, "orders-ev", slot);
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'backfilling' WHERE name = 'orders-ev'");
        Cleanup cleanup = new Cleanup(db, null, Cleanup.DEFAULT_PUBLICATION, RollbackDrillIT::dropSlot);

        Rollback.Result first = new Rollback(db, transitions, cleanup).rollback("users-ev", "test", "only users", false);
        assertThat(first.done()).contains("removed public.users from publication shapeshift_pub");
        assertThat(first.left()).anyMatch(s -> s.contains("slot " + slot + " kept: active migration(s) [orders-ev]"));
        assertThat(catalog.get("orders-ev").phase()).isEqualTo(Phase.BACKFILLING);
        assertThat(Seed.count(db, "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'shapeshift_pub' AND tablename = 'orders'")).isOne();
        assertThat(Seed.count(db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'email_verified'")).isOne();

        Rollback.Result second = new Rollback(db, transitions, cleanup).rollback("orders-ev", "test", "orders too", false);
        assertThat(second.done()).contains("dropped publication shapeshift_pub (no active migration left)",
                "dropped replication slot " + slot);
    }

    /**
     * A migration whose expand never ran (registered, then rolled back): the rollback reports the
     * new column as never there, not as dropped. The drills above, where the expand ran, are the
     * negative control: there the same rollback says "dropped".
     */
    @Test
    void aColumnTheExpandNeverCreatedIsNotReportedAsDropped(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "never");
        Catalog catalog = new Catalog(db, "test");
        Transitions transitions = new Transitions(catalog);
        setUpTable(db, "users", 10);
        MigrationSpec spec = SpecJson.read(ContractGateIT.spec("1h", "1d"));
        catalog.create("users-ev", SpecJson.write(spec), "test", "test");

        Rollback.Result r = new Rollback(db, transitions, null).rollback("users-ev", "test", "expand failed", false);
        assertThat(Seed.count(db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                + "AND column_name = 'email_verified'")).as("independently: the column is not there").isZero();
        assertThat(r.done()).noneMatch(d -> d.startsWith("dropped"));
        assertThat(r.left()).contains("new column(s) [email_verified] of public.users did not exist (the expand did not "
                + "create them)");
        assertThat(Seed.count(db, "SELECT count(*) FROM shapeshift.audit WHERE action LIKE 'rollback: dropped%'")).isZero();
    }

    /**
     * One migration on {@code table}, registered, expanded by the driver ({@link #driveToExpanded})
     * and syncing from {@code slot} as far as the catalog knows; returns its spec resolved against
     * the new shape.
     */
    static ResolvedSpec register(Database db, KafkaBroker kafka, String name, String table, String slot)
            throws SQLException {
        return register(db, kafka, name, table, slot, false);
    }

    /** As {@link #register(Database, KafkaBroker, String, String, String)}, with {@code writes.switch} if asked. */
    static ResolvedSpec register(Database db, KafkaBroker kafka, String name, String table, String slot,
                                 boolean writeSwitch) throws SQLException {
        register(db, name, table, writeSwitch);
        driveToExpanded(db, kafka, name);
        return slotRecorded(db, name, slot);
    }

    /** Registers the drill's spec under {@code name} on {@code table} as {@code shapeshift start} does. */
    static void register(Database db, String name, String table) {
        register(db, name, table, false);
    }

    static void register(Database db, String name, String table, boolean writeSwitch) {
        String json = ContractGateIT.spec("1h", "1d").replace("\"users-ev\"", "\"" + name + "\"")
                .replace("\"table\":\"users\"", "\"table\":\"" + table + "\"");
        if (writeSwitch) {
            json = json.substring(0, json.lastIndexOf('}')) + ",\"writes\":{\"switch\":true}}";
        }
        Registration r = new Registrar(db, "test").register(name + ".json", SpecJson.read(json), json);
        assertThat(r.outcome()).as(r.message()).isEqualTo(Registration.Outcome.CREATED);
    }

    /**
     * A coordinator with its driver on takes the registered migrations through their expand (the
     * additive DDL, the topics, the move to {@code expanded} through its gate) and is stopped once
     * the catalog shows every one {@code expanded}: no bridge has recorded a start LSN yet, so the
     * driver goes no further, and the drill takes the later phases by setting the phase row.
     */
    static void driveToExpanded(Database db, KafkaBroker kafka, String... names) {
        Catalog catalog = new Catalog(db, "test");
        DriveConfig drive = DriveConfig.on(kafka.bootstrapServers(), 2)
                .withTick(Duration.ofMillis(200));
        try (Coordinator coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, Seed.ADMIN, null,
                Duration.ofSeconds(1)).withDrive(drive), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            for (String name : names) {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                        .until(() -> catalog.get(name).phase(), p -> p == Phase.EXPANDED);
            }
        }
    }

    /** What the bridge records when it starts streaming a migration's table. */
    static ResolvedSpec slotRecorded(Database db, String name, String slot) throws SQLException {
        Catalog catalog = new Catalog(db, "test");
        catalog.recordSlot(name, slot, "0/0");
        MigrationSpec spec = SpecJson.read(catalog.get(name).specJson());
        try (Connection c = db.connect("test")) {
            return SpecValidator.resolveExpanded("test", spec, c);
        }
    }

    /**
     * A catalog database with a {@code users} table of 20 rows, captured in a fresh slot
     * ({@link #captured}), and {@code m} registered on it and expanded ({@link #register}).
     */
    static Database expandedOnUsers(PostgresServer pg, KafkaBroker kafka, String database, String slotPrefix, String m)
            throws SQLException {
        Database db = Seed.database(pg, database);
        setUpTable(db, "users", 20);
        register(db, kafka, m, "users", captured(db, slotPrefix, "users"));
        return db;
    }

    /**
     * What the bridge sets up before it streams {@code tables}: the publication (with the heartbeat
     * table) and a replication slot, named {@code slotPrefix} and a suffix unique to this run.
     * Returns the slot's name.
     */
    static String captured(Database db, String slotPrefix, String... tables) throws SQLException {
        String slot = slotPrefix + Long.toHexString(System.nanoTime());
        Seed.sql(db, "CREATE TABLE IF NOT EXISTS shapeshift.heartbeat (slot_name text PRIMARY KEY, beat_at timestamptz)",
                "CREATE PUBLICATION shapeshift_pub FOR TABLE " + String.join(", ", tables) + ", shapeshift.heartbeat",
                "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        return slot;
    }

    static void setUpTable(Database db, String table, int rows) throws SQLException {
        Seed.sql(db, "CREATE TABLE " + table + " (id bigint PRIMARY KEY, email text, legacy_verified_at timestamptz)",
                "INSERT INTO " + table + " SELECT i, 'u' || i, CASE WHEN i % 2 = 0 THEN to_timestamp(i) END "
                        + "FROM generate_series(1, " + rows + ") i");
    }

    private static Map<Long, Long> initialModel(int rows) {
        Map<Long, Long> m = new TreeMap<>();
        for (long i = 1; i <= rows; i++) {
            m.put(i, i % 2 == 0 ? i : -1L);
        }
        return m;
    }

    /** The application: inserts, updates (set and clear) and deletes on the old column; the model follows each commit. */
    private static void appWrites(Database db, String table, Map<Long, Long> model, AtomicBoolean running) {
        Random rnd = new Random(42);
        try (Connection c = db.connect("app-load")) {
            while (running.get()) {
                long id = 1 + rnd.nextInt(500);
                int op = rnd.nextInt(10);
                if (op < 6) {
                    long v = rnd.nextBoolean() ? 1_000_000 + rnd.nextInt(1_000_000) : -1;
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (id, email, legacy_verified_at) "
                            + "VALUES (?, 'n', to_timestamp(?)) ON CONFLICT (id) DO UPDATE SET legacy_verified_at = EXCLUDED.legacy_verified_at")) {
                        ps.setLong(1, id);
                        if (v < 0) {
                            ps.setNull(2, Types.BIGINT);
                        } else {
                            ps.setLong(2, v);
                        }
                        ps.executeUpdate();
                    }
                    model.put(id, v);
                } else if (op < 8) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE id = ?")) {
                        ps.setLong(1, id);
                        ps.executeUpdate();
                    }
                    model.remove(id);
                } else {
                    Thread.sleep(2);
                }
            }
        } catch (SQLException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sync and backfill stand-in: refreshes the whole table until the phase says rolled-back. */
    private static void sync(Database db, Catalog catalog, ResolvedSpec resolved, AtomicBoolean running) {
        Refresher refresher = new Refresher(resolved);
        while (running.get() && catalog.get(resolved.spec().name()).phase() != Phase.ROLLED_BACK) {
            try (Connection c = db.connect("worker")) {
                c.setAutoCommit(false);
                refresher.refresh(c, List.of(Key.of(1), Key.of(2), Key.of(3)));
                refresher.refreshRange(c, KeyRange.ALL, 200);
                c.commit();
            } catch (SQLException e) {
                // the rollback dropped the new column under us; the phase check ends the loop
            }
        }
    }

    static boolean dropSlot(Database db, String slot) {
        try (Connection c = db.connect("cdc-bridge"); PreparedStatement ps = c.prepareStatement(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            return ps.executeQuery().next();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<Long, Long> oldShape(Database db, String table) throws SQLException {
        Map<Long, Long> out = new TreeMap<>();
        try (Connection c = db.connect("test"); PreparedStatement ps = c.prepareStatement("SELECT id, "
                + "coalesce(extract(epoch FROM legacy_verified_at)::bigint, -1) FROM " + table);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getLong(2));
            }
        }
        return out;
    }
}
