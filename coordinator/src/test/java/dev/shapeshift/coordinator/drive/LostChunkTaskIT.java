package dev.shapeshift.coordinator.drive;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A chunk task lost to the workers: a consumer of another deployment that shares the migration's
 * name (and so its chunks topic and consumer group) on one Kafka cluster takes every task and
 * commits it, as such a worker does after finding the chunk done in its own database. Without the
 * driver's republishing nothing would ever run those chunks: the group's next consumer gets
 * nothing (checked first). Once the backfill has been silent for {@code stallAfter}, the driver
 * publishes the open chunks' tasks again, once per stall period, audited; the group's next
 * consumer gets exactly those chunks. Then the operator's retry of a failed chunk
 * ({@code shapeshift backfill retry}): published at the driver's next tick, not a stall period later.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class LostChunkTaskIT {
    private static final Duration STALL = Duration.ofSeconds(3);

    @Test
    void aStalledBackfillRepublishesTheTasksOfItsOpenChunksOnce(PostgresServer pg, KafkaBroker kafka) throws Exception {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase("lost_task")), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        Seed.sql(db, "CREATE TABLE public.users (id bigint PRIMARY KEY, legacy_verified_at timestamptz)",
                "INSERT INTO public.users SELECT g, CASE WHEN g % 2 = 0 THEN now() END FROM generate_series(1, 2000) g",
                "ALTER TABLE public.users ADD COLUMN email_verified boolean",
                "ANALYZE public.users");
        String name = "lost-task";
        String yaml = UsersSpec.yaml(name, """
                backfill:
                  chunkRows: 500
                  batchRows: 100
                """);
        MigrationSpec spec = new SpecReader().read(name + ".yaml", yaml);
        Catalog catalog = new Catalog(db, "test");
        catalog.create(spec.name(), SpecJson.write(spec), yaml, "test");
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'syncing', slot_name = 'lost_task_slot', start_lsn = pg_current_wal_lsn() WHERE name = '" + name + "'");
        MigrationDriver driver = new MigrationDriver(name, db, GateWiring.transitions(db, "coordinator"),
                DriveConfig.on(kafka.bootstrapServers(), 2).withStallAfter(STALL),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), () -> false, HaltPoint.NONE);

        assertThat(driver.tick().kind()).isEqualTo(Step.Kind.PLAN_BACKFILL);
        assertThat(catalog.get(name).phase()).isEqualTo(Phase.BACKFILLING);
        List<Integer> planned = ints(db, "SELECT chunk_no FROM shapeshift.chunk WHERE migration = '" + name + "' ORDER BY 1");
        assertThat(planned).hasSizeGreaterThan(1);

        // The other deployment's worker takes every task and commits it.
        assertThat(drain(kafka, name, planned.size(), Duration.ofSeconds(30))).as("the impostor took every task")
                .containsExactlyInAnyOrderElementsOf(planned);
        assertThat(drain(kafka, name, 1, Duration.ofSeconds(3))).as("nothing is left for this deployment's workers").isEmpty();
        Thread.sleep(STALL.toMillis());
        assertThat(driver.tick().kind()).isEqualTo(Step.Kind.REPUBLISH_CHUNKS);
        assertThat(catalog.get(name).message()).contains("published the tasks of chunk(s)")
                .contains("two deployments sharing this migration's name");
        assertThat(driver.tick().kind()).as("once per stall period, not every tick").isEqualTo(Step.Kind.WAIT);
        assertThat(ints(db, "SELECT count(*)::int FROM shapeshift.audit WHERE migration = '" + name
                + "' AND action = '" + SnapshotReader.REPUBLISH_ACTION + "'")).containsExactly(1);
        assertThat(drain(kafka, name, planned.size(), Duration.ofSeconds(30))).as("the group's next consumer gets them")
                .containsExactlyInAnyOrderElementsOf(planned);

        // A chunk that failed for good waits for an operator: `backfill retry` puts it back to pending and the
        // driver publishes at its next tick, not after a stall period (an hour here, so only the retry can do it).
        MigrationDriver patient = new MigrationDriver(name, db, GateWiring.transitions(db, "coordinator"),
                DriveConfig.on(kafka.bootstrapServers(), 2).withStallAfter(Duration.ofHours(1)),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), () -> false, HaltPoint.NONE);
        int broken = planned.get(1);
        Seed.sql(db, "UPDATE shapeshift.chunk SET status = 'failed', error = 'permission denied for table users' "
                + "WHERE migration = '" + name + "' AND chunk_no = " + broken);
        assertThat(patient.tick().kind()).as("nothing to do before the retry").isEqualTo(Step.Kind.WAIT);
        ChunkStore chunks = new ChunkStore(catalog);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> chunks.retryFailed(name, List.of(planned.get(0)), "op", null))
                .isInstanceOf(dev.shapeshift.error.ShapeshiftException.class)
                .hasMessageContaining("chunk " + planned.get(0) + " is pending").hasMessageContaining("[" + broken + "]");
        assertThat(chunks.retryFailed(name, List.of(), "op", "grant fixed"))
                .containsExactly(java.util.Map.entry(broken, "permission denied for table users"));
        assertThat(ints(db, "SELECT count(*)::int FROM shapeshift.chunk WHERE migration = '" + name
                + "' AND status = 'failed'")).containsExactly(0);
        assertThat(patient.tick().kind()).as("the retry is published at once").isEqualTo(Step.Kind.REPUBLISH_CHUNKS);
        assertThat(catalog.get(name).message()).contains("retried by an operator").doesNotContain("two deployments");
        assertThat(patient.tick().kind()).as("one publication per retry").isEqualTo(Step.Kind.WAIT);
        assertThat(drain(kafka, name, planned.size(), Duration.ofSeconds(30))).as("the retried chunk's task is out")
                .contains(broken);
        assertThat(chunks.retryFailed(name, List.of(), "op", null)).as("nothing failed: nothing retried").isEmpty();
    }

    /** Consumes the migration's chunk tasks in its workers' group and commits them; returns the chunk numbers. */
    private static List<Integer> drain(KafkaBroker kafka, String migration, int want, Duration atMost) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, Topics.group(migration, "backfill"));
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<Integer> chunks = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(Topics.chunks(migration)));
            long deadline = System.nanoTime() + atMost.toNanos();
            while (chunks.size() < want && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    chunks.add(Integer.parseInt(r.key()));
                }
            }
            consumer.commitSync();
        }
        return chunks;
    }

    private static List<Integer> ints(Database db, String sql) throws Exception {
        return Seed.column(db, sql).stream().map(Integer::valueOf).toList();
    }
}
