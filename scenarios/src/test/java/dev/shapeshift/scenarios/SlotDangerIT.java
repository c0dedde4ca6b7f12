package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.BridgeState;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.drive.DriveConfig;
import dev.shapeshift.coordinator.register.Registrar;
import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.worker.Worker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Slot danger: the migration is registered and driven to {@code syncing} by the coordinator's
 * driver; then every Shapeshift process (coordinator, bridge, worker) is down while the
 * application keeps writing, on a server with a small {@code max_slot_wal_keep_size}. The
 * retained-WAL alarm must fire before the limit is reached (as soon as a bridge looks at the slot:
 * gauge {@code shapeshift.bridge.slot.alarm} and the catalog message), and once PostgreSQL has
 * invalidated the slot the bridge must refuse to run (SOURCE_CHANGED, named in the catalog)
 * instead of silently streaming from "now".
 */
@ExtendWith(KafkaExtension.class)
class SlotDangerIT {
    private static final long KEEP_MB = 96;
    private static final long ALARM_BYTES = 64L << 20;
    private static final String ADMIN = "slot-danger-admin-token-0123456";

    @Test
    void theAlarmFiresBeforeTheLimitAndALostSlotIsRefused(KafkaBroker kafka) throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests()
                .withSetting("max_slot_wal_keep_size", KEEP_MB + "MB").withSetting("max_wal_size", "64MB")
                .withSetting("min_wal_size", "32MB"))) {
            Database db = new Database(pg.jdbcUrl(pg.createDatabase("slot_danger")), pg.user(), pg.password());
            exec(db, "CREATE TABLE src (id bigint PRIMARY KEY, a integer, b text, big text)",
                    "ALTER TABLE src ALTER COLUMN big SET STORAGE EXTERNAL",
                    "INSERT INTO src SELECT g, g, 'b' || g, 'small' FROM generate_series(1, 1000) g");
            CatalogSchema.migrate(db);
            String yaml = """
                    name: slot-danger
                    source:
                      table: src
                    mode: table
                    target:
                      table: src_v2
                      columns:
                        - name: doubled
                          type: integer
                          transform: a * 2
                    """;
            MigrationSpec spec = new SpecReader().read("slot-danger.yaml", yaml);
            Registration registered = new Registrar(db, "scenario").register("slot-danger.yaml", spec, yaml);
            assertThat(registered.outcome()).as(registered.message()).isEqualTo(Registration.Outcome.CREATED);
            Catalog catalog = new Catalog(db, "scenario");
            BridgeConfig config = BridgeConfig.of(db, kafka.bootstrapServers())
                    .withSlot("s_slot_danger")
                    .withPublication("p_slot_danger")
                    .withHeartbeat(Duration.ofSeconds(1))
                    .withReplication((short) 1)
                    .withChangesPartitions(Stack.PARTITIONS)
                    .withWatchInterval(Duration.ofMillis(300))
                    .withSafeWalAlarmBytes(ALARM_BYTES);

            // 1. normal operation: the coordinator's driver expands and moves to syncing once the bridge
            //    streams the table; a worker syncs; no alarm
            try (Coordinator coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, ADMIN, null,
                    Duration.ofSeconds(1)).withDrive(DriveConfig.on(kafka.bootstrapServers(), Stack.PARTITIONS)
                    .withPublication("p_slot_danger")), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                 CdcBridge bridge = new CdcBridge(config, new SimpleMeterRegistry())) {
                bridge.start();
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                        .until(() -> catalog.get(spec.name()).phase(), p -> p.compareTo(Phase.SYNCING) >= 0);
                try (Worker worker = new Worker(db, kafka.bootstrapServers(), Worker.Config.of("w1", List.of(spec.name()))
                        .withBackfill(false)
                        .withSessionTimeout(Duration.ofSeconds(6)), new SimpleMeterRegistry())) {
                    worker.start();
                    exec(db, "UPDATE src SET a = a + 1 WHERE id <= 100");
                    Thread.sleep(2000);
                    assertThat(bridge.metrics().alarm()).isZero();
                }
            } // 2. every Shapeshift process stops (the coordinator too); the application keeps writing

            long safe = writeUntil(db, s -> s.safeWalSize != null && s.safeWalSize < ALARM_BYTES - (8L << 20));
            Slot before = slot(db);
            System.out.printf("SLOT bridge down: wal_status=%s safe_wal_size=%d lag=%d (alarm below %d, limit %d MB)%n",
                    before.walStatus, before.safeWalSize, before.lagBytes, ALARM_BYTES, KEEP_MB);
            assertThat(before.walStatus).as("not yet lost").isNotEqualTo("lost");

            // 3. a bridge comes back: its first look at the slot raises the alarm, before the limit
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            AtomicLong alarmedAt = new AtomicLong(-1);
            try (CdcBridge bridge = new CdcBridge(config, registry)) {
                bridge.start();
                long t0 = System.nanoTime();
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> {
                    if (bridge.metrics().alarm() == 1 && alarmedAt.get() < 0) {
                        alarmedAt.set((System.nanoTime() - t0) / 1_000_000);
                    }
                    return alarmedAt.get() >= 0;
                });
                String message = catalog.get(spec.name()).message();
                System.out.printf("SLOT alarm fired %d ms after the bridge started; catalog message: %s%n", alarmedAt.get(),
                        message);
                assertThat(message).startsWith("slot alarm:").contains("safe_wal_size");
                assertThat(registry.get("shapeshift.bridge.slot.alarm").gauge().value()).isEqualTo(1.0);
            }
            assertThat(safe).as("the alarm came with WAL to spare").isPositive();

            // 4. down again, past the limit: PostgreSQL invalidates the slot at a checkpoint
            writeUntil(db, s -> "lost".equals(s.walStatus));
            System.out.println("SLOT invalidated: " + slot(db));

            // 5. the bridge refuses to stream from a lost slot, and says so in the catalog
            try (CdcBridge bridge = new CdcBridge(config, new SimpleMeterRegistry())) {
                bridge.start();
                assertThat(bridge.awaitState(BridgeState.FAILED, Duration.ofSeconds(60))).as("bridge state " + bridge.state())
                        .isTrue();
                Throwable why = bridge.failure().orElseThrow();
                assertThat(why).isInstanceOf(ShapeshiftException.class);
                assertThat(((ShapeshiftException) why).code()).isEqualTo(ErrorCode.SOURCE_CHANGED);
                String message = catalog.get(spec.name()).message();
                System.out.println("SLOT refused: " + message);
                assertThat(message).startsWith("sync refused:").contains("wal_status=lost");
            }
            assertThat(slot(db).walStatus).as("the bridge never drops or recreates the slot").isEqualTo("lost");
        }
    }

    record Slot(String walStatus, Long safeWalSize, long lagBytes) {
    }

    /** Writes out-of-line rows (WAL ≈ size) and checkpoints until the slot satisfies {@code until}; returns the last safe_wal_size. */
    private static long writeUntil(Database db, java.util.function.Predicate<Slot> until) throws SQLException {
        long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
        Slot s = slot(db);
        while (!until.test(s)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("slot never reached the state; last " + s);
            }
            exec(db, "UPDATE src SET big = (SELECT string_agg(md5(random()::text || g), '') FROM generate_series(1, 60) g) "
                    + "WHERE id <= 500", "CHECKPOINT");
            s = slot(db);
        }
        return s.safeWalSize == null ? 0 : s.safeWalSize;
    }

    private static Slot slot(Database db) throws SQLException {
        try (Connection c = db.connect("test"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT wal_status, safe_wal_size, pg_current_wal_lsn() - "
                     + "coalesce(confirmed_flush_lsn, restart_lsn) FROM pg_replication_slots WHERE slot_name = 's_slot_danger'")) {
            if (!rs.next()) {
                throw new AssertionError("slot s_slot_danger is gone");
            }
            long safe = rs.getLong(2);
            Long safeOrNull = rs.wasNull() ? null : safe;
            return new Slot(rs.getString(1), safeOrNull, rs.getLong(3));
        }
    }

    private static void exec(Database db, String... statements) throws SQLException {
        try (Connection c = db.connect("app"); Statement s = c.createStatement()) {
            for (String st : statements) {
                s.execute(st);
            }
        }
    }
}
