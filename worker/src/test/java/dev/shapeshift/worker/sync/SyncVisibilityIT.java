package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.change.ChangeCodec;
import dev.shapeshift.change.ChangeEvent;
import dev.shapeshift.db.Sql;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.refresh.VisibilityBarrier;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.worker.sync.SyncFixture.Check;
import dev.shapeshift.worker.sync.SyncFixture.Migration;
import dev.shapeshift.worker.sync.SyncFixture.Shape;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 12: a change event can arrive before its transaction is visible to other sessions. Logical
 * decoding sends a transaction once its commit record is flushed; the committing backend leaves the
 * proc array only after the synchronous-replication wait. With {@code synchronous_standby_names}
 * naming a standby that does not exist, that wait lasts until the setting is cleared, so the window
 * is as wide as the test wants: the application's commit is held in {@code SyncRep} while the
 * bridge publishes its changes and the sync consumes them.
 *
 * <p>The held transaction updates and inserts in place, and inserts in table mode — the changes a
 * refresh on the older snapshot gets wrong without waiting for any lock (in place, the old row
 * version already satisfies {@code new = transform(old)} and is filtered out before it is locked;
 * an inserted row is not seen at all), for integer, composite and uuid keys. With the
 * {@link VisibilityBarrier} the sync waits and never commits its offset past the held changes;
 * after the release every row is right. The negative control runs the same history with the
 * barrier off: the sync commits past the changes while they are invisible, and the rows stay wrong
 * after it has caught up.
 *
 * <p>Own PostgreSQL server: the test changes server settings.
 */
@ExtendWith(KafkaExtension.class)
class SyncVisibilityIT {
    private static final List<KeyKind> KINDS = List.of(KeyKind.BIGINT, KeyKind.COMPOSITE, KeyKind.UUID);
    private static EmbeddedPostgres pg;

    @BeforeAll
    static void start() {
        pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests());
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void changesDecodedBeforeTheirCommitIsVisibleAreAppliedOnceVisible(KafkaBroker kafka) throws Exception {
        try (SyncFixture f = fixture(kafka, "sync_vis")) {
            List<Migration> ms = migrations(f, "v");
            f.bridge();
            ms.forEach(f::awaitCaptured);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            f.worker("w1", registry, ms.stream().map(Migration::name).toArray(String[]::new));
            seed(f, ms);

            Held held = holdCommit(f, ms);
            // The sync sees every held change and waits for it; it commits no offset past it.
            await().atMost(Duration.ofSeconds(60)).until(() -> ms.stream().allMatch(m -> waits(registry, m) >= 1));
            await().atMost(Duration.ofSeconds(30)).until(() -> ms.stream().allMatch(m -> f.catalog.get(m.name()).message()
                    .contains("not visible to other sessions yet")));
            for (Migration m : ms) {
                for (Position e : held.events().get(m.name())) {
                    assertThat(committedPast(f, m, e)).as("sync of %s committed its offset past a change that is not "
                            + "visible yet (%s)", m.name(), e).isFalse();
                }
            }
            release(f, held);

            for (Migration m : ms) {
                Check c = f.awaitConverged(m, Duration.ofSeconds(60));
                assertThat(c.clean()).as("%s: %s", m.name(), c.examples()).isTrue();
            }
        } finally {
            resetSettings();
        }
    }

    @Test
    void negativeControlWithoutTheBarrierTheHeldChangesAreLost(KafkaBroker kafka) throws Exception {
        List<SyncConsumer> consumers = new ArrayList<>();
        try (SyncFixture f = fixture(kafka, "sync_vis_nc")) {
            List<Migration> ms = migrations(f, "n");
            f.bridge();
            ms.forEach(f::awaitCaptured);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            for (Migration m : ms) {
                consumers.add(unguarded(f, registry, m));
            }
            seed(f, ms);

            Held held = holdCommit(f, ms);
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (Migration m : ms) {
                    for (Position e : held.events().get(m.name())) {
                        if (!committedPast(f, m, e)) {
                            return false;
                        }
                    }
                }
                return true;
            });
            release(f, held);
            Map<TopicPartition, Long> end = endOffsets(f, ms);
            await().atMost(Duration.ofSeconds(60)).until(() -> caughtUpTo(f, ms, end));
            for (Migration m : ms) {
                Check c = f.check(m);
                System.out.printf("NEGATIVE CONTROL %s: missing=%d stale=%d extra=%d %s%n", m.name(), c.missing(),
                        c.stale(), c.extra(), c.examples());
                assertThat(c.clean()).as("without the barrier %s must lose the held changes", m.name()).isFalse();
            }
        } finally {
            consumers.forEach(SyncConsumer::close);
            resetSettings();
        }
    }

    /** In place and table mode for each key kind. */
    private static List<Migration> migrations(SyncFixture f, String prefix) {
        List<Migration> ms = new ArrayList<>();
        for (KeyKind kind : KINDS) {
            for (Mode mode : List.of(Mode.IN_PLACE, Mode.TABLE)) {
                String name = prefix + "_" + kind.name().toLowerCase() + "_" + (mode == Mode.TABLE ? "t" : "i");
                ms.add(f.migration(name, kind, mode, Shape.STANDARD));
            }
        }
        return ms;
    }

    private static void seed(SyncFixture f, List<Migration> ms) {
        for (Migration m : ms) {
            f.tx("INSERT INTO " + m.source() + " (" + String.join(", ", m.kind().names) + ", seq, a, b) SELECT "
                    + m.kind().fromG + ", g, g, 'b' || g FROM generate_series(1, 20) g");
        }
        for (Migration m : ms) {
            f.awaitConverged(m, Duration.ofSeconds(60));
        }
    }

    /** The application's transaction, its commit waiting for a standby that does not exist. */
    private record Held(CompletableFuture<Void> commit, Map<String, List<Position>> events) {
    }

    private record Position(TopicPartition partition, long offset) {
    }

    /**
     * A fixture whose database starts every session with {@code synchronous_commit = local}, before
     * any Shapeshift session connects: only the application's session (which sets it {@code on})
     * ever waits for the missing standby. The server-wide {@code ALTER SYSTEM} in {@link #holdCommit}
     * alone was not enough: an idle session applies a reload only after its next command, so a
     * worker's autocommit write sent just after the reload still ran with {@code on} and waited in
     * {@code SyncRep} too (one full CI run: two sessions waiting, the consumer of one migration stuck).
     */
    private static SyncFixture fixture(KafkaBroker kafka, String prefix) throws SQLException {
        SyncFixture f = new SyncFixture(pg, kafka, prefix);
        String name;
        try (Connection c = f.db.connect("test")) {
            name = Sql.one(c, "SELECT current_database()", rs -> rs.getString(1));
        }
        admin("ALTER DATABASE \"" + name + "\" SET synchronous_commit = 'local'");
        return f;
    }

    private static Held holdCommit(SyncFixture f, List<Migration> ms) throws Exception {
        admin("ALTER SYSTEM SET synchronous_commit = 'local'", "ALTER SYSTEM SET synchronous_standby_names = 'ghost'",
                "SELECT pg_reload_conf()");
        Connection app = f.db.connect("app");
        app.setAutoCommit(false);
        long xid;
        try (Statement s = app.createStatement()) {
            s.execute("SET synchronous_commit = 'on'");
            try (ResultSet rs = s.executeQuery("SELECT txid_current()")) {
                rs.next();
                xid = rs.getLong(1) & 0xFFFFFFFFL;
            }
            for (Migration m : ms) {
                if (m.mode() == Mode.IN_PLACE) {
                    s.executeUpdate("UPDATE " + m.source() + " SET a = a + 1000, b = 'changed' WHERE seq = 5");
                }
                s.executeUpdate("INSERT INTO " + m.source() + " (" + String.join(", ", m.kind().names)
                        + ", seq, a, b) SELECT " + m.kind().fromG + ", g, g, 'new' FROM generate_series(1000, 1000) g");
            }
        }
        CompletableFuture<Void> commit = CompletableFuture.runAsync(() -> {
            try (app) {
                app.commit();
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> f.count(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") == 1);
        Map<String, List<Position>> events = awaitEvents(f, ms, xid);
        assertThat(commit).as("the application's commit is still held").isNotDone();
        return new Held(commit, events);
    }

    private static void release(SyncFixture f, Held held) throws Exception {
        admin("ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()");
        held.commit().get(30, TimeUnit.SECONDS);
    }

    private static void resetSettings() {
        try {
            admin("ALTER SYSTEM RESET synchronous_standby_names", "ALTER SYSTEM RESET synchronous_commit",
                    "SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void admin(String... statements) throws SQLException {
        try (Connection c = pg.connect("postgres"); Statement s = c.createStatement()) {
            for (String st : statements) {
                s.execute(st);
            }
        }
    }

    /**
     * Reads each migration's changes topic until it has every event of the held transaction (in
     * place an update and an insert, in table mode an insert); returns their positions.
     */
    private static Map<String, List<Position>> awaitEvents(SyncFixture f, List<Migration> ms, long xid) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, f.bootstrap());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, List<Position>> found = new HashMap<>();
        Map<String, Integer> expected = new HashMap<>();
        ms.forEach(m -> expected.put(m.name(), m.mode() == Mode.IN_PLACE ? 2 : 1));
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (Migration m : ms) {
                for (int i = 0; i < SyncFixture.PARTITIONS; i++) {
                    tps.add(new TopicPartition(Topics.changes(m.name()), i));
                }
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!complete(found, expected) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    ChangeEvent e = ChangeCodec.decode(r.value());
                    if (!e.heartbeat() && (e.txId() & 0xFFFFFFFFL) == xid) {
                        found.computeIfAbsent(e.migration(), k -> new ArrayList<>())
                                .add(new Position(new TopicPartition(r.topic(), r.partition()), r.offset()));
                    }
                }
            }
        }
        assertThat(complete(found, expected)).as("the held transaction's events reached every changes topic: %s",
                found).isTrue();
        return found;
    }

    private static boolean complete(Map<String, List<Position>> found, Map<String, Integer> expected) {
        return expected.entrySet().stream().allMatch(e -> found.getOrDefault(e.getKey(), List.of()).size() >= e.getValue());
    }

    private static boolean committedPast(SyncFixture f, Migration m, Position event) throws Exception {
        Long committed = committed(f, m).get(event.partition());
        return committed != null && committed > event.offset();
    }

    private static Map<TopicPartition, Long> committed(SyncFixture f, Migration m) throws Exception {
        try (Admin admin = admin(f)) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(Topics.group(m.name(), "sync"))
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            Map<TopicPartition, Long> out = new HashMap<>();
            offsets.forEach((tp, o) -> {
                if (o != null) {
                    out.put(tp, o.offset());
                }
            });
            return out;
        }
    }

    private static Map<TopicPartition, Long> endOffsets(SyncFixture f, List<Migration> ms) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, f.bootstrap());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (Migration m : ms) {
                for (int i = 0; i < SyncFixture.PARTITIONS; i++) {
                    tps.add(new TopicPartition(Topics.changes(m.name()), i));
                }
            }
            return c.endOffsets(tps);
        }
    }

    private static boolean caughtUpTo(SyncFixture f, List<Migration> ms, Map<TopicPartition, Long> end) throws Exception {
        for (Migration m : ms) {
            Map<TopicPartition, Long> committed = committed(f, m);
            for (var e : end.entrySet()) {
                if (e.getKey().topic().equals(Topics.changes(m.name())) && e.getValue() > 0
                        && committed.getOrDefault(e.getKey(), 0L) < e.getValue()) {
                    return false;
                }
            }
        }
        return true;
    }

    private static Admin admin(SyncFixture f) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, f.bootstrap());
        return Admin.create(p);
    }

    private static double waits(SimpleMeterRegistry registry, Migration m) {
        Counter c = registry.find("shapeshift.sync.visibility.waits").tag("migration", m.name()).counter();
        return c == null ? 0 : c.count();
    }

    /** A sync consumer with the barrier removed: the negative control. */
    private static SyncConsumer unguarded(SyncFixture f, SimpleMeterRegistry registry, Migration m) throws SQLException {
        var spec = SpecJson.read(f.catalog.get(m.name()).specJson());
        try (Connection c = f.db.connect("test")) {
            var resolved = SpecValidator.resolveExpanded(m.name(), spec, c);
            SyncConsumer consumer = new SyncConsumer(SyncConfig.defaults(f.bootstrap(), "nc-" + m.name())
                    .withSessionTimeout(Duration.ofSeconds(6)).withoutVisibilityBarrier(), f.db, f.catalog, resolved,
                    new SyncMetrics(registry, m.name(), "visibility-it"));
            Thread t = new Thread(consumer, "nc-sync-" + m.name());
            t.setDaemon(true);
            t.start();
            return consumer;
        }
    }
}
