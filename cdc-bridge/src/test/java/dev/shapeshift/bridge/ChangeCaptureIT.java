package dev.shapeshift.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.change.ChangeEvent;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.refresh.Key;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class ChangeCaptureIT {

    @Test
    void everyChangedKeyReachesTheTopicWithItsOp(PostgresServer pg, KafkaBroker kafka) throws Exception {
        BridgeFixture f = new BridgeFixture(pg, kafka, "capture");
        f.sql("CREATE TABLE items (id bigint PRIMARY KEY, a text, big text)",
                "CREATE TABLE pairs (region text, n integer, v text, PRIMARY KEY (region, n))",
                "CREATE TABLE things (id uuid PRIMARY KEY, v text)");
        f.migration("items_m", "items", List.of("id"), "upper(a)");
        f.migration("pairs_m", "pairs", List.of(), "v");
        f.migration("things_m", "things", List.of("id"), "v");
        try (CdcBridge bridge = f.streaming()) {
            assertThat(f.catalog.get("items_m").startLsn()).isNotNull();
            assertThat(f.catalog.get("items_m").slotName()).isEqualTo(f.slot);
            f.sql("INSERT INTO items VALUES (1, 'a', repeat('x', 5000)), (2, NULL, NULL)",
                    "UPDATE items SET a = 'b' WHERE id = 1", // TOASTed big unchanged
                    "DELETE FROM items WHERE id = 2",
                    "UPDATE items SET id = 10 WHERE id = 1", // key update
                    "BEGIN; INSERT INTO items VALUES (3, 'c'); INSERT INTO items VALUES (4, 'd'); "
                            + "UPDATE items SET a = NULL WHERE id = 3; COMMIT",
                    "INSERT INTO pairs VALUES ('eu', 7, 'x'), ('us', -1, NULL)",
                    "UPDATE pairs SET n = 8 WHERE region = 'eu'",
                    "INSERT INTO things VALUES ('7b1e8a4e-2f3c-4d5e-8f90-a1b2c3d4e5f6', 'x')",
                    "DELETE FROM things");
            await().atMost(Duration.ofSeconds(30)).until(() -> f.events("things_m", Duration.ofMillis(500)).size() >= 2);
            List<ChangeEvent> items = f.events("items_m", Duration.ofSeconds(1));
            assertThat(ops(items)).contains("1:c", "2:c", "1:u", "2:d", "1:d", "10:c", "3:c", "4:c", "3:u");
            assertThat(items).allSatisfy(e -> {
                assertThat(e.lsn()).isPositive();
                assertThat(e.commitTsMicros()).isPositive();
                assertThat(e.txId()).isPositive();
            });
            assertThat(ops(f.events("pairs_m", Duration.ofMillis(500))))
                    .contains("eu,7:c", "us,-1:c", "eu,7:d", "eu,8:c");
            assertThat(ops(f.events("things_m", Duration.ofMillis(500))))
                    .containsExactly("7b1e8a4e-2f3c-4d5e-8f90-a1b2c3d4e5f6:c", "7b1e8a4e-2f3c-4d5e-8f90-a1b2c3d4e5f6:d");
            // the multi-row transaction shares one txid
            Set<Long> tx = items.stream().filter(e -> Set.of(Key.of("3"), Key.of("4")).contains(e.key()))
                    .map(ChangeEvent::txId).collect(Collectors.toSet());
            assertThat(tx).hasSize(1);
        }
    }

    /**
     * Kafka refuses one migration's change events (its topic's {@code max.message.bytes} set below any
     * event) while the offsets topic keeps working, so nothing but the acknowledgement guard in
     * {@code ChangePublisher} stops the bridge from storing an offset past events Kafka did not take.
     * Once the topic takes events again, every change made meanwhile is in it. Negative control, run by
     * hand (2026-12-06): with failed sends counted as acknowledged, the 20 changes made while refused
     * were missing. (A partition of the whole bridge ↔ Kafka link cannot show this: the offsets live
     * behind the same link, NetworkFaultIT.)
     */
    @Test
    void changesKafkaRefusedAreSentAgainNotSkipped(PostgresServer pg, KafkaBroker kafka) throws Exception {
        BridgeFixture f = new BridgeFixture(pg, kafka, "refused");
        f.tableMigration("refused_m", "refused", "a text", "upper(a)");
        String topic = dev.shapeshift.kafka.Topics.changes("refused_m");
        org.apache.kafka.common.config.ConfigResource resource = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
        try (CdcBridge bridge = new CdcBridge(f.config(), new SimpleMeterRegistry());
             org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                     java.util.Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            bridge.start();
            assertThat(bridge.awaitState(BridgeState.STREAMING, Duration.ofSeconds(90))).as("streaming").isTrue();
            f.sql("INSERT INTO refused VALUES (1, 'a')");
            await().atMost(Duration.ofSeconds(30)).until(() -> ops(f.events("refused_m", Duration.ofMillis(300)))
                    .contains("1:c"));
            admin.incrementalAlterConfigs(java.util.Map.of(resource, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry("max.message.bytes", "1"),
                    org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get();
            f.sql("INSERT INTO refused SELECT g, 'x' FROM generate_series(2, 21) g");
            Thread.sleep(5000); // the bridge sends them (a look every 500 ms, 1 s heartbeats) and Kafka refuses them
            admin.incrementalAlterConfigs(java.util.Map.of(resource, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry("max.message.bytes", ""),
                    org.apache.kafka.clients.admin.AlterConfigOp.OpType.DELETE)))).all().get();
            f.sql("INSERT INTO refused VALUES (22, 'after')");
            await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(ops(f.events("refused_m",
                    Duration.ofMillis(500)))).as("every change made while Kafka refused them").containsAll(
                    java.util.stream.IntStream.rangeClosed(2, 22).mapToObj(i -> i + ":c").toList()));
        }
    }

    @Test
    void echoTransactionsAreSuppressed(PostgresServer pg, KafkaBroker kafka) throws Exception {
        BridgeFixture f = new BridgeFixture(pg, kafka, "echo");
        int n = 200;
        f.sql("CREATE TABLE users (id bigint PRIMARY KEY, legacy text, fresh text)",
                "INSERT INTO users SELECT g, 'v' || g, NULL FROM generate_series(1, " + n + ") g");
        f.migration("users_m", "users", List.of("id"), "lower(legacy)");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (CdcBridge bridge = f.streaming(registry)) {
            // N in-place worker updates, 10 rows per transaction, each transaction marked as an echo
            for (int i = 0; i < n; i += 10) {
                f.sql("BEGIN; SELECT pg_logical_emit_message(true, 'shapeshift.echo', 'users_m'); "
                        + "UPDATE users SET fresh = lower(legacy) WHERE id > " + i + " AND id <= " + (i + 10) + "; COMMIT");
            }
            // the same updates without the mark (what would come back without suppression)
            f.sql("UPDATE users SET fresh = upper(legacy)");
            f.sql("UPDATE users SET legacy = 'app' WHERE id = 1");
            await().atMost(Duration.ofSeconds(30)).until(() -> bridge.metrics().published() >= n + 1);
            List<ChangeEvent> events = f.events("users_m", Duration.ofSeconds(1));
            System.out.printf("ECHO with suppression: %d in-place updates -> published=%.0f suppressed=%.0f; "
                            + "without the mark the same %d updates published %d events%n", n,
                    bridge.metrics().published() - n - 1, bridge.metrics().suppressed(), n, n);
            assertThat(bridge.metrics().suppressed()).isEqualTo(n);
            assertThat(bridge.metrics().published()).isEqualTo(n + 1);
            assertThat(events).hasSize(n + 1);
        }
    }

    /**
     * Table mode with a write switch: the target table is captured too, from the migration's one
     * start LSN, its application writes published to the migration's topic by the same key, and a
     * worker's echo-marked writes to it suppressed.
     */
    @Test
    void tableModeWithAWriteSwitchCapturesTheTargetTableToo(PostgresServer pg, KafkaBroker kafka) throws Exception {
        BridgeFixture f = new BridgeFixture(pg, kafka, "capture_target");
        f.sql("CREATE TABLE accounts (id bigint PRIMARY KEY, a text)",
                "CREATE TABLE accounts_v2 (id bigint PRIMARY KEY, x text)");
        f.tableMigrationWithWriteSwitch("accounts_m", "accounts", "accounts_v2");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (CdcBridge bridge = f.streaming(registry)) {
            assertThat(f.catalog.get("accounts_m").startLsn()).isNotNull();
            f.sql("INSERT INTO accounts VALUES (1, 'a')",
                    "INSERT INTO accounts_v2 VALUES (2, 'B'), (3, 'C')",
                    "UPDATE accounts_v2 SET x = 'BB' WHERE id = 2",
                    "DELETE FROM accounts_v2 WHERE id = 3",
                    "UPDATE accounts_v2 SET id = 20 WHERE id = 2",
                    "BEGIN; SELECT pg_logical_emit_message(true, 'shapeshift.echo', 'accounts_m'); "
                            + "INSERT INTO accounts_v2 VALUES (99, 'WORKER'); INSERT INTO accounts VALUES (98, 'w'); COMMIT");
            await().atMost(Duration.ofSeconds(30)).until(() -> f.events("accounts_m", Duration.ofMillis(500)).size() >= 7);
            assertThat(ops(f.events("accounts_m", Duration.ofSeconds(1))))
                    .containsExactlyInAnyOrder("1:c", "2:c", "3:c", "2:u", "3:d", "2:d", "20:c");
            assertThat(bridge.metrics().suppressed()).isEqualTo(2);
            assertThat(f.publishedTables()).contains("public.accounts", "public.accounts_v2");
            assertThat(f.catalog.auditLog("accounts_m", 0, 1000).stream().filter(a -> a.action().equals("sync-started")).count())
                    .as("one start of sync for both tables").isEqualTo(1);
        }
    }

    /**
     * Capture engines that die while starting (their walsender terminated again and again, as a
     * flapping network or a failover in progress does) are started again until one streams; the
     * bridge then captures what was written meanwhile. Before 414b026 the first start that failed
     * left the state at STARTING and every later round threw "bridge state changed concurrently":
     * the bridge never streamed again (with that code this case fails at "streams again").
     */
    @Test
    void captureEnginesThatDieWhileStartingAreStartedAgainUntilOneStreams(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        BridgeFixture f = new BridgeFixture(pg, kafka, "flapping");
        f.tableMigration("flapping_m", "flapping", "a text", "upper(a)");
        try (CdcBridge bridge = new CdcBridge(f.config(), new SimpleMeterRegistry())) {
            bridge.start();
            assertThat(bridge.awaitState(BridgeState.STREAMING, Duration.ofSeconds(90))).as("streaming").isTrue();
            long until = System.nanoTime() + Duration.ofSeconds(6).toNanos();
            int terminated = 0;
            try (java.sql.Connection c = f.db.connect("test"); java.sql.Statement s = c.createStatement()) {
                while (System.nanoTime() < until) {
                    try (java.sql.ResultSet rs = s.executeQuery("SELECT count(pg_terminate_backend(active_pid)) "
                            + "FROM pg_replication_slots WHERE slot_name = '" + f.slot + "' AND active_pid IS NOT NULL")) {
                        rs.next();
                        terminated += rs.getInt(1);
                    }
                    Thread.sleep(20);
                }
            }
            assertThat(terminated).as("walsenders terminated (the engine restarted at least once)").isGreaterThan(1);
            f.sql("INSERT INTO flapping VALUES (1, 'after the flapping')");
            assertThat(bridge.awaitState(BridgeState.STREAMING, Duration.ofSeconds(90))).as("streams again").isTrue();
            await().atMost(Duration.ofSeconds(60)).until(() -> ops(f.events("flapping_m", Duration.ofMillis(300)))
                    .contains("1:c"));
        }
    }

    /**
     * A migration added while the bridge streams changes the captured set, so the bridge stops its
     * engine and starts one for the new set. The old engine's walsender can stay on the slot for a
     * while after the stop (one replaying a large transaction does not look at its socket for
     * seconds; here it is stopped with SIGSTOP for 4 s); a new engine that asks for the slot then is refused ("replication slot … is active for
     * PID …") and Debezium waited 10 s before it asked again: a sync gap for every migration on the
     * slot. The bridge now waits for the slot to be free (and asks its own old walsender to end after
     * 2 s) before it starts the new engine. Counted, not timed: Debezium logs each refused start. Only the
     * new engine's first start is the bridge's to get right; Debezium itself then reconnects once
     * (after finding its resume position), which its own old walsender can delay too: those retries
     * come every 2 s ({@code slot.retry.delay.ms}) and are not counted here.
     * Negative control, run by hand (2026-12-07): without the wait in {@code LeaderTerm.restart} the
     * second migration's first start was refused (1 counted).
     */
    @Test
    void aMigrationAddedWhileStreamingIsCapturedWithoutARefusedStart(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        BridgeFixture f = new BridgeFixture(pg, kafka, "added");
        f.sql("CREATE TABLE first_t (id bigint PRIMARY KEY, a text)", "CREATE TABLE second_t (id bigint PRIMARY KEY, a text)");
        f.migration("first_m", "first_t", List.of("id"), "upper(a)");
        try (EngineStarts starts = new EngineStarts(); CdcBridge bridge = f.streaming()) {
            f.sql("INSERT INTO first_t VALUES (1, 'before')");
            await().atMost(Duration.ofSeconds(30)).until(() -> ops(f.events("first_m", Duration.ofMillis(300))).contains("1:c"));
            // A walsender that does not look at its socket for a while (one replaying a large
            // transaction does not): stopped for 4 s, so it is still on the slot after the engine stops.
            int walsender;
            try (java.sql.Connection c = f.db.connect("test")) {
                walsender = dev.shapeshift.bridge.slot.SlotRelease.activePid(c, f.slot);
            }
            signal("STOP", walsender);
            try {
                f.migration("second_m", "second_t", List.of("id"), "upper(a)");
                Thread.sleep(4000);
            } finally {
                signal("CONT", walsender);
            }
            await().atMost(Duration.ofSeconds(90)).until(() -> f.catalog.get("second_m").startLsn() != null);
            f.sql("INSERT INTO second_t VALUES (1, 'after')", "INSERT INTO first_t VALUES (2, 'after')");
            await().atMost(Duration.ofSeconds(60)).until(() -> ops(f.events("second_m", Duration.ofMillis(300))).contains("1:c")
                    && ops(f.events("first_m", Duration.ofMillis(300))).containsAll(List.of("1:c", "2:c")));
            assertThat(starts.refusedFirstStarts()).as("engine starts refused because the stopped engine's walsender "
                    + "still held the slot (events: " + starts.events() + ")").isZero();
        }
    }

    private static void signal(String signal, int pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Integer.toString(pid)).inheritIO().start();
        assertThat(p.waitFor()).as("kill -" + signal + " " + pid).isZero();
    }

    /**
     * Debezium's log of starting a stream, in order: "refused" for each start refused because the slot
     * is active, "search" when a started stream looks for its resume position (the first start of an
     * engine with stored offsets succeeded; Debezium reconnects after it).
     */
    private static final class EngineStarts implements AutoCloseable {
        private final LogLines lines = new LogLines(ch.qos.logback.classic.Level.INFO,
                "io.debezium.connector.postgresql.connection.PostgresReplicationConnection",
                "io.debezium.connector.postgresql.PostgresStreamingChangeEventSource");

        List<String> events() {
            return lines.messages().stream().map(m -> m.contains("retrying, attempt number") ? "refused"
                    : m.contains("Searching for WAL resume position") ? "search" : null)
                    .filter(java.util.Objects::nonNull).toList();
        }

        /** Refused starts before the first search: an engine's first start refused. */
        long refusedFirstStarts() {
            List<String> events = events();
            int search = events.indexOf("search");
            return events.subList(0, search < 0 ? events.size() : search).stream().filter("refused"::equals).count();
        }

        @Override
        public void close() {
            lines.close();
        }
    }

    /**
     * A capture engine closed right after its start (the stack stopping just after the captured set
     * changed, as at the end of the demo) ends without Debezium logging an error: Debezium fails an
     * engine closed while it creates its task, so the close lets a start under way finish first.
     * Negative control, run by hand (2026-12-07): without that wait in {@code CaptureEngine.close},
     * each of the 3 closes logged "Engine has failed with" (IllegalStateException: "Cannot change engine
     * state to 'CREATING_TASKS' as the engine is not in expected state 'INITIALIZING'").
     */
    @Test
    void anEngineClosedWhileStartingEndsWithoutAnError(PostgresServer pg, KafkaBroker kafka) throws Exception {
        BridgeFixture f = new BridgeFixture(pg, kafka, "closing");
        f.tableMigration("closing_m", "closing", "a text", "upper(a)");
        try (CdcBridge bridge = f.streaming()) {
            // the bridge created the slot, publication and offsets topic; its engine is stopped below
        }
        try (LogLines errors = new LogLines(ch.qos.logback.classic.Level.ERROR, "io.debezium")) {
            for (int i = 0; i < 3; i++) {
                dev.shapeshift.bridge.capture.CaptureEngine engine = new dev.shapeshift.bridge.capture.CaptureEngine(
                        f.config(), List.of(new dev.shapeshift.bridge.capture.TableId("public", "closing")),
                        (records, committer) -> committer.markBatchFinished());
                engine.start();
                engine.close();
                // close() waits a bounded time; on a loaded machine the engine may end just after it returns
                await().atMost(Duration.ofSeconds(60)).untilAsserted(
                        () -> assertThat(engine.done()).as("the engine ended").isDone());
            }
            assertThat(errors.messages()).as("errors Debezium logged").isEmpty();
        }
    }

    private static List<String> ops(List<ChangeEvent> events) {
        return events.stream().map(e -> String.join(",", e.key().values()) + ":" + e.op()).toList();
    }
}
