package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.catalog.SyncStreamStore;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.phase.Phase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A name can be registered again after its run is rolled back and cleaned up: the old run keeps its
 * history under {@code <name>~1}, and the new run's topics and consumer group hold nothing of the old
 * run's records. Before the clean-up (the negative control) the name is refused with what to do.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class NameReuseIT {
    @Test
    void aRolledBackAndCleanedUpNameIsRegisteredAgainWithItsHistoryKeptAndNoOldRecords(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        String m = "users-nr";
        Database db = RollbackDrillIT.expandedOnUsers(pg, kafka, "name_reuse", "ss_nr_", m);
        Catalog catalog = new Catalog(db, "test");
        Transitions transitions = new Transitions(catalog);
        String spec = catalog.get(m).specJson();
        Topics.ensure(kafka.bootstrapServers(), Map.of(Topics.changes(m), 2, Topics.chunks(m), 2), (short) 1);
        produce(kafka, Topics.changes(m), 5);
        assertThat(consumeAll(kafka, m)).as("the old run's records, consumed and committed by its group").isEqualTo(5);
        new SyncStreamStore(catalog).claim(m, 0, 2, "w-old", null);
        catalog.putSetting(m, "sync-skip", "0:3", "ops", "old run");

        assertThatThrownBy(() -> catalog.create(m, spec, "again.yaml", "test")).isInstanceOf(ShapeshiftException.class)
                .hasMessageContaining("is active (phase").hasMessageContaining("shapeshift rollback " + m);

        transitions.rollback(m, "test", "abandon the first run");
        assertThatThrownBy(() -> catalog.create(m, spec, "again.yaml", "test"))
                .isInstanceOfSatisfying(ShapeshiftException.class, notClean -> {
                    assertThat(notClean.code()).isEqualTo(ErrorCode.CONFLICT);
                    assertThat(notClean.getMessage()).contains("not cleaned up").contains("shapeshift cleanup " + m);
                });

        Cleanup.Result cleaned = new Cleanup(db, kafka.bootstrapServers(), Cleanup.DEFAULT_PUBLICATION,
                RollbackDrillIT::dropSlot).run(m, "test", "first run done");
        assertThat(cleaned.done()).contains("deleted topic " + Topics.changes(m), "deleted consumer group "
                + Topics.group(m, "sync")).anyMatch(d -> d.contains("may be registered again"));

        MigrationRecord again = catalog.create(m, spec, "again.yaml", "test");
        assertThat(again.phase()).isEqualTo(Phase.PLANNED);
        assertThat(again.slotName()).isNull();
        assertThat(Seed.count(db, "SELECT count(*) FROM shapeshift.migration WHERE name = '" + m + "' AND generation = 2"))
                .isEqualTo(1);
        // the old run, whole, under its retired name
        String retired = m + "~1";
        assertThat(catalog.get(retired).phase()).isEqualTo(Phase.ROLLED_BACK);
        assertThat(catalog.auditLog(retired, 0, 100)).extracting(a -> a.action())
                .contains("create", "transition", "retire");
        assertThat(Seed.count(db, "SELECT count(*) FROM shapeshift.sync_stream WHERE migration = '" + retired + "'")).isEqualTo(1);
        assertThat(Seed.count(db, "SELECT count(*) FROM shapeshift.sync_stream WHERE migration = '" + m + "'")).isZero();
        assertThat(catalog.setting(m, "sync-skip")).as("the old run's skip is not the new run's").isEmpty();
        assertThat(catalog.auditLog(m, 0, 100)).hasSize(1);

        // the new run's topics (created again as registration does) and group see nothing of the old run
        Topics.ensure(kafka.bootstrapServers(), Map.of(Topics.changes(m), 2, Topics.chunks(m), 2), (short) 1);
        produce(kafka, Topics.changes(m), 2);
        assertThat(consumeAll(kafka, m)).as("only the new run's records").isEqualTo(2);
    }

    private static void produce(KafkaBroker kafka, String topic, int n) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, ("k" + i).getBytes(StandardCharsets.UTF_8),
                        ("v" + i).getBytes(StandardCharsets.UTF_8))).get();
            }
        }
    }

    /** Consumes the changes topic in the migration's sync group to its end, commits, returns how many records. */
    private static int consumeAll(KafkaBroker kafka, String m) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, Topics.group(m, "sync"));
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        int n = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(Topics.changes(m)));
            long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < end) {
                n += c.poll(Duration.ofMillis(200)).count();
                if (!c.assignment().isEmpty() && c.assignment().stream()
                        .allMatch(tp -> c.position(tp) >= c.endOffsets(List.of(tp)).get(tp))) {
                    break;
                }
            }
            c.commitSync();
        }
        return n;
    }
}
