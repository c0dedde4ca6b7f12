package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.drive.DriveConfig;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.SeededWrites;
import dev.shapeshift.embedded.UsersSpec;
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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The coordinator drives a migration that was only registered (a catalog row in {@code planned}):
 * expand, topics, sync, chunks, backfill, reconcile and {@code verified} by itself while an
 * application writes; the read switch on the operator's approval; contract-ready and — with
 * {@code contract.approval: auto} — the contract and the clean-up by itself. A second test closes
 * the driving coordinator mid-backfill: the standby takes over and continues without planning or
 * moving anything twice.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class DriverIT {
    private static final String ADMIN = "driver-it-admin-token-0123456789";
    private static final int ROWS = 3000;
    static final String MISMATCHES =
            "SELECT count(*) FROM public.users WHERE email_verified IS DISTINCT FROM (legacy_verified_at IS NOT NULL)";

    @Test
    void drivesARegisteredMigrationToContractedWithTheOperatorsReadSwitch(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        driveToContracted(pg, kafka);
    }

    /**
     * Registered to contracted by the driver under an application's writes: expand, sync,
     * backfill, reconcile, verified, the operator's read switch, the automatic contract. Also the
     * smoke migration of the PostgreSQL version matrix ({@link PostgresVersionsIT}).
     */
    static void driveToContracted(PostgresServer pg, KafkaBroker kafka) throws Exception {
        String dbName = pg.createDatabase("driver");
        Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        String name = "users-verified";
        Catalog catalog = seededMigration(db, name,
                "contract:\n  dropColumns: [legacy_verified_at]\n  quietPeriod: 3s\n  approval: auto\n");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // The bridge under a role of its own: Debezium names its metadata sessions "Debezium General",
        // not shapeshift-*, so a role it shares would look shared with the application to the
        // contract gate, and the continuous reconcile's reads of the old shape would count against
        // the quiet period (docs/phases.md).
        BridgeConfig bridgeConfig = bridge(bridgeRole(db, pg, dbName), kafka);
        try (SeededWrites app = appWrites(appRole(db, pg, dbName)).start();
             Coordinator coordinator = coordinator(db, kafka, registry);
             CdcBridge bridge = new CdcBridge(bridgeConfig, registry)) {
            bridge.start();
            List<Worker> workers = workers(db, kafka, name, registry);
            try {
                awaitPhase(db, name, Phase.VERIFIED, Duration.ofMinutes(4));
                assertThat(app.writes()).as("the application wrote during sync and backfill").isPositive();
                // The driver waits for the operator, and says so with the command that gives the approval.
                await().atMost(Duration.ofSeconds(30)).until(() -> catalog.get(name).message(),
                        m -> m != null && m.contains("shapeshift phase advance " + name + " --to reads-switched"));
                assertThat(catalog.get(name).phase()).isEqualTo(Phase.VERIFIED);

                app.close(); // the application moves to the new shape: nothing writes the old one any more
                await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(300))
                        .until(() -> count(db, MISMATCHES), n -> n == 0);
                assertThat(count(db, "SELECT count(*) FROM public.users")).isGreaterThan(ROWS / 2);

                // The operator's approval is the operator's move; the driver continues from the phase it finds.
                await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                        .until(() -> GateWiring.transitions(db, "operator").advance(name, Phase.READS_SWITCHED, "operator",
                                "test approves the read switch").phase() == Phase.READS_SWITCHED);
                try {
                    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                            .until(() -> catalog.get(name).phase(), p -> p == Phase.CONTRACTED);
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    throw new AssertionError("not contracted: " + catalog.get(name).message() + "\nsightings: "
                            + rows(db, "SELECT kind || ' ' || id || ' ours=' || by_shapeshift || ' other=' || by_other "
                            + "FROM shapeshift.contract_sighting") + "\nsessions: " + rows(db, "SELECT usename || ' ' "
                            + "|| application_name || ' ' || backend_type FROM pg_stat_activity WHERE datname = "
                            + "current_database()"), e);
                }
            } finally {
                workers.forEach(Worker::close);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> audits(db, name, "driver cleanup"), n -> n == 1);
            assertThat(count(db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                    + "AND column_name = 'legacy_verified_at'")).as("old column dropped by the contract").isZero();
            assertThat(audits(db, name, "transition")).as("one audited move per phase, none repeated").isEqualTo(8);
            assertThat(catalog.get(name).message()).startsWith("contracted; cleaned up:");
        } finally {
            dropSlot(db, bridgeConfig.slot());
        }
    }

    @Test
    void aStandbyTakesOverMidBackfillAndPlansNothingTwice(PostgresServer pg, KafkaBroker kafka) throws Exception {
        String dbName = pg.createDatabase("driver_ha");
        Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        String name = "users-ha";
        Catalog catalog = seededMigration(db, name, "");
        catalog.putSetting(name, "max-rows-per-second", "150", "test", "slow enough to stop the coordinator mid-backfill");
        BridgeConfig bridgeConfig = bridge(db, kafka);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Coordinator first = coordinator(db, kafka, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        Coordinator second = coordinator(db, kafka, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        try (CdcBridge bridge = new CdcBridge(bridgeConfig, registry)) {
            bridge.start();
            List<Worker> workers = workers(db, kafka, name, registry);
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> first.driving() || second.driving());
                assertThat(first.driving() && second.driving()).as("one driving instance per catalog").isFalse();
                Coordinator leader = first.driving() ? first : second;
                Coordinator standby = leader == first ? second : first;
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(300))
                        .until(() -> catalog.get(name).phase(), p -> p == Phase.BACKFILLING);
                long chunks = count(db, "SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + name + "'");
                assertThat(chunks).isGreaterThan(1);
                assertThat(count(db, "SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + name
                        + "' AND status = 'done'")).as("stopped mid-backfill").isLessThan(chunks);
                leader.close();
                await().atMost(Duration.ofSeconds(30)).until(standby::driving);
                catalog.putSetting(name, "max-rows-per-second", "0", "test", "uncap");
                awaitPhase(db, name, Phase.VERIFIED, Duration.ofMinutes(3));
                assertThat(count(db, "SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + name + "'"))
                        .as("chunks planned once").isEqualTo(chunks);
                assertThat(count(db, "SELECT count(*) FROM shapeshift.backfill_plan WHERE migration = '" + name + "'"))
                        .isEqualTo(1);
                for (String to : List.of("expanded", "syncing", "backfilling", "backfilled", "verified")) {
                    assertThat(count(db, "SELECT count(*) FROM shapeshift.audit WHERE migration = '" + name
                            + "' AND action = 'transition' AND to_phase = '" + to + "'")).as("moves to %s", to).isEqualTo(1);
                }
                assertThat(count(db, MISMATCHES)).as("target = transform(source)").isZero();

                // revertOnDrift: drift behind the sync's back after the read switch flips reads back.
                await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                        .until(() -> GateWiring.transitions(db, "operator").advance(name, Phase.READS_SWITCHED, "operator",
                                "test approves the read switch").phase() == Phase.READS_SWITCHED);
                try (Connection c = db.connect("test-tamper"); Statement s = c.createStatement()) {
                    c.setAutoCommit(false);
                    s.execute("SELECT pg_logical_emit_message(true, 'shapeshift.echo', '" + name + "')");
                    s.execute("UPDATE public.users SET email_verified = NOT email_verified WHERE id IN (1, 2)");
                    c.commit();
                }
                await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                        .until(() -> catalog.get(name).phase(), p -> p == Phase.VERIFIED);
                assertThat(count(db, "SELECT count(*) FROM shapeshift.audit WHERE migration = '" + name + "' AND "
                        + "action = 'transition' AND from_phase = 'reads-switched' AND to_phase = 'verified' AND actor = "
                        + "'coordinator-driver' AND reason LIKE 'switch.revertOnDrift: % open drift row(s)%'"))
                        .as("the revert is audited with the drift count").isEqualTo(1);
                assertThat(count(db, "SELECT count(*) FROM shapeshift.drift WHERE migration = '" + name
                        + "' AND resolved_at IS NULL")).as("the two tampered keys are open drift").isEqualTo(2);
                assertThat(count(db, "SELECT count(*) FROM shapeshift.flag WHERE name = '" + name
                        + ".read-new' AND value")).as("reads back on the old shape").isZero();
            } finally {
                workers.forEach(Worker::close);
                second.close();
                first.close();
            }
        } finally {
            dropSlot(db, bridgeConfig.slot());
        }
    }

    static void seed(Database db) throws SQLException {
        seed(db, ROWS);
    }

    /**
     * {@code public.users} with {@code rows} rows (every third verified), pg_stat_statements, the
     * catalog schema.
     */
    static void seed(Database db, int rows) throws SQLException {
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            s.execute("CREATE TABLE public.users (id bigint PRIMARY KEY, name text NOT NULL, legacy_verified_at timestamptz)");
            s.execute("INSERT INTO public.users SELECT g, 'user ' || g, CASE WHEN g % 3 = 0 THEN now() END "
                    + "FROM generate_series(1, " + rows + ") g");
            s.execute("ANALYZE public.users");
        }
        CatalogSchema.migrate(db);
    }

    /**
     * The application's own database role (docs/operations.md: Shapeshift and the application must
     * not share one, or the contract gate cannot tell Shapeshift's reads of the old shape — the
     * continuous reconcile — from the application's).
     */
    static Database appRole(Database db, PostgresServer pg, String dbName) throws SQLException {
        String role = "app_" + dbName;
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + role + " LOGIN PASSWORD 'app'");
            s.execute("GRANT USAGE ON SCHEMA public TO " + role);
            s.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON public.users TO " + role);
        }
        return new Database(pg.jdbcUrl(dbName), role, "app");
    }

    static Database bridgeRole(Database db, PostgresServer pg, String dbName) throws SQLException {
        String role = "bridge_" + dbName;
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + role + " SUPERUSER REPLICATION LOGIN PASSWORD 'bridge'");
        }
        return new Database(pg.jdbcUrl(dbName), role, "bridge");
    }

    /** What `shapeshift start` and POST /api/migrations do: only the catalog row, in phase planned. */
    /** {@link #seed(Database)} and {@link #register}: the catalog, to follow the migration {@code name}. */
    static Catalog seededMigration(Database db, String name, String contract) throws SQLException {
        seed(db);
        register(db, name, contract);
        return new Catalog(db, "test");
    }

    static void register(Database db, String name, String contract) {
        create(db, name, UsersSpec.yaml(name, PACE + contract));
    }

    /**
     * The pace of the driver scenarios' specs: small chunks and batches, a reconcile every 2 s, a
     * clean window of 1 s.
     */
    static final String PACE = """
            backfill:
              chunkRows: 400
              batchRows: 100
            reconcile:
              rangeRows: 1000
              interval: 2s
              recheckAfter: 1s
            switch:
              cleanFor: 1s
            """;

    /** Creates the catalog row of spec {@code yaml} in phase planned, as the API does. */
    static void create(Database db, String name, String yaml) {
        MigrationSpec spec = new SpecReader().read(name + ".yaml", yaml);
        new Catalog(db, "test").create(spec.name(), SpecJson.write(spec), yaml, "test");
    }

    static Coordinator coordinator(Database db, KafkaBroker kafka, PrometheusMeterRegistry registry) {
        DriveConfig drive = DriveConfig.on(kafka.bootstrapServers(), Stack.PARTITIONS)
                .withStallAfter(Duration.ofMinutes(2));
        return Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, ADMIN, null, Duration.ofSeconds(1)).withDrive(drive),
                registry, new AccessGate(new AccessWatch(db)));
    }

    static BridgeConfig bridge(Database db, KafkaBroker kafka) {
        return BridgeConfig.of(db, kafka.bootstrapServers()).withReplication((short) 1)
                .withChangesPartitions(Stack.PARTITIONS)
                .withHeartbeat(Duration.ofSeconds(1))
                .withWatchInterval(Duration.ofMillis(500));
    }

    /** Workers in all-active mode: they pick the migration up once the driver expanded it. */
    private static List<Worker> workers(Database db, String bootstrap, String migration, PrometheusMeterRegistry registry) {
        List<Worker> out = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            Worker w = new Worker(db, bootstrap, new Worker.Config(migration + "-w" + i, List.of(), true, true,
                    Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofSeconds(2)), registry);
            w.start();
            out.add(w);
        }
        return out;
    }

    static List<Worker> workers(Database db, KafkaBroker kafka, String migration, PrometheusMeterRegistry registry) {
        return workers(db, kafka.bootstrapServers(), migration, registry);
    }

    private static long audits(Database db, String migration, String action) throws SQLException {
        return count(db, "SELECT count(*) FROM shapeshift.audit WHERE migration = '" + migration + "' AND action = '"
                + action + "'");
    }

    /**
     * Waits for a phase; on a timeout the failure carries the migration's whole status (chunks,
     * throttle reasons, sync lag, workers, bridge, gate) as `shapeshift status --json` prints it,
     * so a failure on a loaded CI machine says where the migration stood.
     */
    static void awaitPhase(Database db, String name, Phase phase, Duration atMost) {
        Catalog catalog = new Catalog(db, "test");
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(500))
                    .until(() -> catalog.get(name).phase(), p -> p == phase);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            String status;
            try {
                status = dev.shapeshift.coordinator.api.Json.write(
                        new dev.shapeshift.coordinator.status.StatusReader(catalog, GateWiring.gates(db)).read(name));
            } catch (RuntimeException unreadable) {
                status = "status unreadable: " + unreadable;
            }
            throw new AssertionError(name + " did not reach " + phase + " within " + atMost + "; status:\n" + status, e);
        }
    }

    static List<String> rows(Database db, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect("test-check"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    static long count(Database db, String sql) throws SQLException {
        try (Connection c = db.connect("test-check"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void dropSlot(Database db, String slot) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            try (Connection c = db.connect("test-cleanup"); PreparedStatement ps = c.prepareStatement(
                    "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE slot_name = ? "
                            + "AND NOT active")) {
                ps.setString(1, slot);
                ps.executeQuery().close();
            }
            return count(db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'") == 0;
        });
    }

    /**
     * The application: updates (60%), inserts (30%) and deletes (10%) on the old shape, in its own
     * role and session (not Shapeshift's), every 10 ms; seed 7.
     */
    static SeededWrites appWrites(Database app) {
        return appWrites(app, "driver-it-app", 7, "legacy_verified_at = CASE WHEN legacy_verified_at IS NULL THEN now() END");
    }

    /** The same application with its own thread name, seed and SET clause of its updates. */
    static SeededWrites appWrites(Database app, String name, long seed, String updateSet) {
        long[] next = {ROWS + 1};
        return SeededWrites.of(name, seed, () -> java.sql.DriverManager.getConnection(app.jdbcUrl(), app.user(), app.password()),
                (random, c) -> {
                    int op = random.nextInt(10);
                    String sql = op < 6 ? "UPDATE public.users SET " + updateSet + " WHERE id = ?"
                            : op < 9 ? "INSERT INTO public.users VALUES (?, 'new', now())" : "DELETE FROM public.users WHERE id = ?";
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        ps.setLong(1, op < 6 || op == 9 ? 1 + random.nextInt(ROWS) : next[0]++);
                        ps.executeUpdate();
                    }
                }).pause(Duration.ofMillis(10));
    }

}
