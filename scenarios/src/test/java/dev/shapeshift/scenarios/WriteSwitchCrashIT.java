package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.drive.DriveConfig;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.phase.Phase;
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
 * Crash cases of the reverse sync: after the write switch, while two application instances write
 * only the new shape, a worker is SIGKILLed, the active cdc-bridge is SIGKILLed (the standby takes
 * over), and the driving coordinator is stopped and another started. Workers and bridges are child
 * JVMs ({@link Stack}), as in the crash matrix. After each fault a probe write of the new shape must
 * reach the old shape through the reverse sync (the time it took is printed as the recovery time);
 * at the end old = reverse(new) for every row and both shapes equal the independent model of what
 * the instances wrote ({@link WriteSwitchFixture.Model}).
 *
 * <p>The table-mode case ({@code users} → {@code users_v2}, {@link WriteSwitchTableIT}'s spec and
 * instances, its own migration name) runs the same faults only with
 * {@code -Dshapeshift.it.crashTable=true} (two to five minutes more on a loaded 2-core machine: not in
 * the default build).
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class WriteSwitchCrashIT {
    /** Not WriteSwitchIT's name: both run on one Kafka broker, whose topics and groups are named after it. */
    private static final String NAME = "users-ws-crash";
    private static final long PROBE = 9_000_001L;
    private static final Duration RECOVERY_LIMIT = Duration.ofSeconds(90);

    @Test
    void theReverseSyncSurvivesAWorkerABridgeAndTheCoordinatorKilled(PostgresServer pg, KafkaBroker kafka) throws Exception {
        faults(pg, kafka, WriteSwitchIT.LAYOUT, NAME, "write_switch_crash", "ws_crash_");
    }

    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "shapeshift.it.crashTable", matches = "true",
            disabledReason = "two to five minutes; run with -Dshapeshift.it.crashTable=true")
    void theTableModeReverseSyncSurvivesAWorkerABridgeAndTheCoordinatorKilled(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        // Table mode: the reverse check is a join of the two tables against the reverse transforms,
        // independent of the code under test.
        faults(pg, kafka, WriteSwitchTableIT.LAYOUT, "users-ws-crash-table", "write_switch_crash_table", "ws_crash_t_");
    }

    /**
     * One case: {@code layout}'s table seeded with the probe row, two of its instances, the faults;
     * at the end old = reverse(new) for every row and both shapes equal the model.
     */
    private static void faults(PostgresServer pg, KafkaBroker kafka, WriteSwitchFixture.Layout<?> layout, String name,
                               String database, String publicationPrefix) throws Exception {
        String dbName = pg.createDatabase(database);
        Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        layout.seed().run(db);
        insertProbe(db);
        layout.register().accept(db, name);
        Database app = layout.appRole().create(db, pg, dbName);
        WriteSwitchFixture.Model model = new WriteSwitchFixture.Model();
        model.writeOld(PROBE, false, "Probe");
        WriteSwitchFixture.Instance a = layout.instances().create(app, model, 1, "a", name);
        WriteSwitchFixture.Instance b = layout.instances().create(app, model, 0, "b", name);
        faults(db, kafka, name, publicationPrefix, List.of(a, b), n -> probe(db, model, n, "UPDATE " + layout.newTable()
                + " SET email_verified = ?, label_key = ? WHERE id = ?", (v, key) -> model.writeNew(PROBE, v, key)), () -> {
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                            .until(() -> layout.oldDiffersFromReverse().read(db), n -> n == 0);
                    assertThat(layout.newShape().read(db)).as("the new " + layout.what() + " is what the application wrote")
                            .isEqualTo(model.newShape());
                    assertThat(layout.oldShape().read(db)).as("the old " + layout.what() + " is reverse(new), as the model says")
                            .isEqualTo(model.oldShape());
                });
    }

    /** Something a test step does that may throw. */
    private interface Step {
        void run() throws Exception;
    }

    /** An application instance of the write switch's scenarios (in place and table mode). */
    interface App extends AutoCloseable {
        void start() throws SQLException;

        void deployDualWrites();

        void honourWriteFlag();

        void pause() throws InterruptedException;

        long newOnlyWrites();

        Throwable failure();
    }

    private static void insertProbe(Database db) throws SQLException {
        try (Connection c = db.connect("test-seed"); Statement s = c.createStatement()) {
            s.execute("INSERT INTO public.users VALUES (" + PROBE + ", 'probe', NULL, 'Probe')");
        }
    }

    /**
     * The faults of both cases: up to the write switch under the instances' load, then a worker
     * SIGKILLed, the active bridge SIGKILLed, the coordinator replaced, a probe after each; then the
     * instances pause and {@code check} runs.
     */
    private static void faults(Database db, KafkaBroker kafka, String name, String publicationPrefix,
                               List<? extends App> apps, java.util.function.IntFunction<Long> probe, Step check)
            throws Exception {
        Catalog catalog = new Catalog(db, "test");
        Transitions operator = GateWiring.transitions(db, "operator");
        List<String> recoveries = new ArrayList<>();
        try (Stack stack = new Stack(db, kafka.bootstrapServers(), publicationPrefix + Long.toHexString(System.nanoTime()))) {
            Coordinator coordinator = coordinator(db, kafka, stack);
            try {
                stack.bridge("bridge1");
                stack.worker("w1", name);
                stack.worker("w2", name);
                for (App app : apps) {
                    app.start();
                }
                DriverIT.awaitPhase(db, name, Phase.VERIFIED, Duration.ofMinutes(5));
                stack.bridge("bridge2"); // the standby
                apps.forEach(App::deployDualWrites);
                Thread.sleep(1500);
                WriteSwitchFixture.advance(operator, name, Phase.DUAL_WRITES);
                WriteSwitchFixture.advance(operator, name, Phase.READS_SWITCHED);
                WriteSwitchFixture.advance(operator, name, Phase.WRITES_SWITCHED);
                apps.forEach(App::honourWriteFlag);
                recoveries.add("steady state: " + probe.apply(0) + " ms");

                stack.kill("w1");
                recoveries.add("SIGKILL worker w1 mid reverse sync: " + probe.apply(1) + " ms");
                stack.kill("bridge1");
                recoveries.add("SIGKILL active bridge, standby takes over: " + probe.apply(2) + " ms");
                coordinator.close();
                coordinator = coordinator(db, kafka, stack);
                recoveries.add("coordinator stopped, another started: " + probe.apply(3) + " ms");
                stack.worker("w1b", name);
                Thread.sleep(2000);

                for (App app : apps) {
                    app.pause();
                }
                check.run();
                for (App app : apps) {
                    assertThat(app.failure()).as("an application instance failed").isNull();
                }
                assertThat(apps.stream().mapToLong(App::newOnlyWrites).sum()).isGreaterThan(40);
                assertThat(catalog.get(name).phase()).isIn(Phase.WRITES_SWITCHED, Phase.CONTRACT_READY);
            } finally {
                for (App app : apps) {
                    app.close();
                }
                coordinator.close();
                System.out.println("WRITE-SWITCH CRASH RECOVERY " + name + " " + recoveries);
            }
        }
    }

    /**
     * One write of the new shape to the probe row ({@code update}: email_verified, label_key, id);
     * returns the milliseconds until the reverse sync made the old shape follow (label = the key
     * written, as the reverse gives for a key the label does not map to).
     */
    private static long probe(Database db, Object model, int n, String update,
                              java.util.function.BiConsumer<Boolean, String> written) {
        String key = "probe-" + n;
        long t0 = System.nanoTime();
        try {
            synchronized (model) {
                try (Connection c = db.connect("app-probe"); PreparedStatement ps = c.prepareStatement(update)) {
                    ps.setBoolean(1, n % 2 == 0);
                    ps.setString(2, key);
                    ps.setLong(3, PROBE);
                    assertThat(ps.executeUpdate()).isEqualTo(1);
                }
                written.accept(n % 2 == 0, key);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        await().atMost(RECOVERY_LIMIT).pollInterval(Duration.ofMillis(100)).until(() -> label(db), key::equals);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static String label(Database db) throws SQLException {
        try (Connection c = db.connect("test-check"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT label FROM public.users WHERE id = " + PROBE)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static Coordinator coordinator(Database db, KafkaBroker kafka, Stack stack) {
        DriveConfig drive = DriveConfig.on(kafka.bootstrapServers(), Stack.PARTITIONS)
                .withPublication(stack.publication)
                .withTick(Duration.ofMillis(200));
        return Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, BadInput.ADMIN, BadInput.READ,
                Duration.ofSeconds(1)).withDrive(drive), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                new AccessGate(new AccessWatch(db)));
    }
}
