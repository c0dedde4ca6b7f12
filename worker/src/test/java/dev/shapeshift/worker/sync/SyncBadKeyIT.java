package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.AuditEntry;
import dev.shapeshift.change.ChangeCodec;
import dev.shapeshift.change.ChangeEvent;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncFixture.Migration;
import dev.shapeshift.worker.sync.SyncFixture.Shape;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A change record whose key value PostgreSQL's cast refuses (a type {@code KeyValues} does not
 * check at decode) is found by bisecting the failing refresh and stops sync as a poison record:
 * at exactly its offset, with the records before it applied and committed, skippable.
 *
 * <p>No bridge runs: every record on the topic is produced here, so a target row changes only when
 * the worker applies a record naming its key, and "applied after the skip" is observable.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SyncBadKeyIT {
    private static final int PARTITION = 1;

    @Test
    void aTextKeyPostgresRefusesStopsSyncAtItsRecordUntilSkipped(PostgresServer pg, KafkaBroker kafka) throws Exception {
        withWorker(pg, kafka, "sync_badkey_text", "badtext", KeyKind.TEXT, Shape.STANDARD,
                "INSERT INTO src_badtext (id, seq, a, b) SELECT 'k' || g, g, g, 'b' || g FROM generate_series(1, 10) g",
                (f, m, registry, worker) -> {
            // text takes any string but one with a NUL byte: PostgreSQL refuses it (class 22)
            String bad = "k1\u0000'); DROP TABLE src_badtext; --" + "x".repeat(200);
            List<RecordMetadata> sent = produce(f, m, keys("k", 1, 5), List.of(bad), keys("k", 6, 10));
            RecordMetadata poison = sent.get(5);
            stopsAt(f, worker, m, poison, "(SQLState 22");
            assertThat(f.catalog.get(m.name()).message()).doesNotContain("\u0000").doesNotContain("x".repeat(65));
            assertThat(applied(f, m, "'k' || g", 1, 5)).as("records before the bad one applied").isEqualTo(5);
            assertThat(registry.get("shapeshift.sync.poison").counter().count()).isEqualTo(1);

            skipAndResume(f, worker, m, poison, 6, sent.get(sent.size() - 1).offset() + 1);
        });
    }

    @Test
    void dateKeysPostgresRefusesStopSyncOnceEachInOffsetOrder(PostgresServer pg, KafkaBroker kafka) throws Exception {
        withWorker(pg, kafka, "sync_badkey_date", "baddate", KeyKind.DATE, Shape.STANDARD,
                "INSERT INTO src_baddate (id, seq, a, b) SELECT date '2000-01-01' + g, g, g, 'b' || g "
                        + "FROM generate_series(1, 10) g", (f, m, registry, worker) -> {
            List<RecordMetadata> sent = produce(f, m, dates(1, 4), List.of("1); DROP TABLE src_baddate; --"),
                    dates(5, 7), List.of("2024-02-30"), dates(8, 10));
            RecordMetadata first = sent.get(4);
            RecordMetadata second = sent.get(8);
            stopsAt(f, worker, m, first, "key value for column id is not a valid date (SQLState 22007): "
                    + "'1); DROP TABLE src_baddate; --'");
            assertThat(applied(f, m, "date '2000-01-01' + g", 1, 4)).isEqualTo(4);

            // the second bad record stops sync again, after the good records between the two
            f.tx("UPDATE src_baddate SET a = a + 1000 WHERE seq >= 5"); // no bridge: only re-delivered records carry this over
            SyncSkip.request(f.catalog, m.name(), position(first), "ops", "key no date column can hold");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> String.valueOf(f.catalog.get(m.name()).message()).contains(position(second)));
            stopsAt(f, worker, m, second, "key value for column id is out of range for date (SQLState 22008): '2024-02-30'");
            assertThat(applied(f, m, "date '2000-01-01' + g", 5, 7)).as("records between the two applied after the skip")
                    .isEqualTo(3);
            assertThat(registry.get("shapeshift.sync.poison").counter().count()).isEqualTo(2);

            skipAndResume(f, worker, m, second, 8, sent.get(sent.size() - 1).offset() + 1);
        });
    }

    @Test
    void aTransformErrorAmongGoodKeysStaysARefreshErrorNotABadKey(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        withWorker(pg, kafka, "sync_badkey_ratio", "ratio", KeyKind.BIGINT, Shape.RATIO,
                "INSERT INTO src_ratio (id, seq, a) SELECT g, g, CASE WHEN g = 5 THEN 0 ELSE g END "
                        + "FROM generate_series(1, 10) g", (f, m, registry, worker) -> {
            produce(f, m, keys("", 1, 10)); // id 5: 100 / 0 raises 22012, a data exception its key is not to blame for

            await().atMost(Duration.ofSeconds(60)).until(() -> syncState(worker, m) == SyncState.STOPPED_ERROR);
            assertThat(f.catalog.get(m.name()).message()).contains("division by zero (SQLState 22012)")
                    .doesNotContain("sync skip");
            assertThat(registry.get("shapeshift.sync.poison").counter().count()).isZero();
            // Keys 1-4 (offsets 0-3) may have come in an earlier poll and been committed; the record
            // of id 5 (offset 4) and everything after it must not be, while its refresh fails.
            assertThat(committed(f, m)).as("nothing committed past the failing record while its refresh fails")
                    .isLessThanOrEqualTo(4);

            f.tx("UPDATE src_ratio SET a = 4 WHERE id = 5"); // the fix
            await().atMost(Duration.ofSeconds(60)).until(() -> syncState(worker, m) == SyncState.RUNNING);
            assertThat(f.awaitConverged(m, Duration.ofSeconds(60)).sourceRows()).isEqualTo(10);
            await().atMost(Duration.ofSeconds(30)).until(() -> committed(f, m) == 10);
        });
    }

    @Test
    void aLockTimeoutIsRetriedNotTakenForABadKey(PostgresServer pg, KafkaBroker kafka) throws Exception {
        withWorker(pg, kafka, "sync_badkey_lock", "locked", KeyKind.BIGINT, Shape.STANDARD,
                "INSERT INTO src_locked (id, seq, a, b) SELECT g, g, g, 'b' || g FROM generate_series(1, 10) g",
                (f, m, registry, worker) -> {
            produce(f, m, keys("", 1, 10));
            f.awaitConverged(m, Duration.ofSeconds(60));

            try (Connection app = f.db.connect("app")) {
                app.setAutoCommit(false);
                int appPid;
                try (Statement s = app.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                    rs.next();
                    appPid = rs.getInt(1);
                    s.executeUpdate("UPDATE src_locked SET a = 500 WHERE id = 5"); // row lock held, not committed
                }
                produce(f, m, List.of("5"));
                // More lock waits than WorkerTransactions' 8 attempts: the failure reached the sync consumer.
                Set<Timestamp> waits = new HashSet<>();
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(40)).until(() -> {
                    waits.addAll(blockedStatements(f, appPid));
                    return waits.size() > 8;
                });
                assertThat(syncState(worker, m)).isEqualTo(SyncState.RUNNING);
                assertThat(registry.get("shapeshift.sync.poison").counter().count()).isZero();
                assertThat(registry.get("shapeshift.sync.errors").counter().count()).isZero();
                app.commit();
            }
            f.awaitConverged(m, Duration.ofSeconds(60)); // id 5 = 500 arrives only by the retried refresh
            assertThat(syncState(worker, m)).isEqualTo(SyncState.RUNNING);
            assertThat(registry.get("shapeshift.sync.poison").counter().count()).isZero();
            assertThat(committed(f, m)).isEqualTo(11);
        });
    }

    /** What a test does with its fixture, its migration, worker w1 and that worker's meters. */
    private interface Body {
        void run(SyncFixture f, Migration m, SimpleMeterRegistry registry, Worker worker) throws Exception;
    }

    /**
     * A fixture in a new database {@code database} with the table-mode migration {@code name}, its
     * source rows inserted by {@code seed} before any record is produced, and worker w1 syncing it;
     * then {@code body}.
     */
    private static void withWorker(PostgresServer pg, KafkaBroker kafka, String database, String name, KeyKind kind,
                                   Shape shape, String seed, Body body) throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, database)) {
            Migration m = f.migration(name, kind, Mode.TABLE, shape);
            f.tx(seed);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            body.run(f, m, registry, f.worker("w1", registry, m.name()));
        }
    }

    /** Sync is stopped at exactly {@code at}: message, state and the committed offset of its partition. */
    private static void stopsAt(SyncFixture f, Worker worker, Migration m, RecordMetadata at, String reason)
            throws Exception {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> syncState(worker, m) == SyncState.STOPPED_POISON
                        && String.valueOf(f.catalog.get(m.name()).message()).contains(position(at)));
        String message = f.catalog.get(m.name()).message();
        System.out.println("BAD KEY catalog message: " + message);
        assertThat(message).contains("topic " + Topics.changes(m.name()) + ", partition:offset " + position(at))
                .contains(reason).contains("Nothing was skipped")
                .contains("shapeshift sync skip " + m.name() + " " + position(at) + " --reason");
        assertThat(committed(f, m)).as("committed up to the bad record, not past it").isEqualTo(at.offset());
    }

    /** Changes the rows of seq {@code firstAfter} and up (the keys of the records after {@code at}), then skips {@code at}. */
    private static void skipAndResume(SyncFixture f, Worker worker, Migration m, RecordMetadata at, int firstAfter,
                                      long end) throws Exception {
        // no bridge: these changes reach the target only through the records after the skipped one
        f.tx("UPDATE " + m.source() + " SET a = a + 1 WHERE seq >= " + firstAfter);
        assertThat(f.check(m).clean()).isFalse();
        SyncSkip.request(f.catalog, m.name(), position(at), "ops", "key no " + m.kind() + " column can hold");
        await().atMost(Duration.ofSeconds(30)).until(() -> syncState(worker, m) == SyncState.RUNNING);
        SyncFixture.Check check = f.awaitConverged(m, Duration.ofSeconds(60));
        assertThat(check.sourceRows()).isEqualTo(10);
        assertThat(check.clean()).isTrue();
        assertThat(f.catalog.get(m.name()).message()).contains("resumed after skipping record " + position(at));
        assertThat(f.catalog.auditLog(m.name(), 0, 100)).extracting(AuditEntry::action)
                .contains("setting sync-skip=" + position(at), "sync skipped record " + position(at));
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(f, m) == end);
    }

    /** How many target rows of keys {@code g = from..to} equal transform(source). */
    private static long applied(SyncFixture f, Migration m, String keyOfG, int from, int to) {
        return f.count("SELECT count(*) FROM generate_series(" + from + ", " + to + ") g JOIN " + m.source()
                + " s ON s.id = " + keyOfG + " JOIN " + m.target() + " t ON t.id = s.id WHERE t.doubled = s.a * 2");
    }

    private static List<Timestamp> blockedStatements(SyncFixture f, int blocker) throws Exception {
        try (Connection c = f.db.connect("test"); PreparedStatement ps = c.prepareStatement(
                "SELECT query_start FROM pg_stat_activity WHERE ? = ANY (pg_blocking_pids(pid))")) {
            ps.setInt(1, blocker);
            List<Timestamp> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getTimestamp(1));
                }
            }
            return out;
        }
    }

    private static List<String> keys(String prefix, int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(i -> prefix + i).toList();
    }

    private static List<String> dates(int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(i -> java.time.LocalDate.of(2000, 1, 1).plusDays(i).toString())
                .toList();
    }

    /** Change records for these keys, in this order, on one partition. */
    @SafeVarargs
    private static List<RecordMetadata> produce(SyncFixture f, Migration m, List<String>... keys) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, f.bootstrap());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        List<RecordMetadata> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (List<String> group : keys) {
                for (String k : group) {
                    Key key = Key.of(k);
                    ChangeEvent e = new ChangeEvent(m.name(), key, 'u', 1, 0, 1);
                    sent.add(producer.send(new ProducerRecord<>(Topics.changes(m.name()), PARTITION,
                            ChangeCodec.encodeKey(key), ChangeCodec.encodeValue(e))).get(30, TimeUnit.SECONDS));
                }
            }
        }
        return sent;
    }

    private static long committed(SyncFixture f, Migration m) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, f.bootstrap());
        try (Admin admin = Admin.create(p)) {
            OffsetAndMetadata o = admin.listConsumerGroupOffsets(Topics.group(m.name(), "sync"))
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS)
                    .get(new TopicPartition(Topics.changes(m.name()), PARTITION));
            return o == null ? -1 : o.offset();
        }
    }

    private static String position(RecordMetadata r) {
        return r.partition() + ":" + r.offset();
    }

    private static SyncState syncState(Worker w, Migration m) {
        return w.sync(m.name()).map(SyncConsumer::state).orElse(SyncState.STARTING);
    }
}
