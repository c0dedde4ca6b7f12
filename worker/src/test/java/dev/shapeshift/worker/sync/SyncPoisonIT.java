package dev.shapeshift.worker.sync;

import static dev.shapeshift.worker.sync.SyncSteps.produceGarbage;
import static dev.shapeshift.worker.sync.SyncSteps.state;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.AuditEntry;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncFixture.Migration;
import dev.shapeshift.worker.sync.SyncFixture.Shape;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Sync never skips on its own: a poison record and a failing transform both stop it, loudly. */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SyncPoisonIT {

    @Test
    void aPoisonRecordStopsSyncUntilTheOperatorSkipsIt(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sync_poison")) {
            Migration m = f.migration("poison");
            Worker worker = f.bridgeAndConvergedWorker(m, SyncFixture.insertRows(m, 60));

            RecordMetadata garbage = produceGarbage(f, m, 1);
            String position = garbage.partition() + ":" + garbage.offset();
            await().atMost(Duration.ofSeconds(30)).until(() -> state(worker, m) == SyncState.STOPPED_POISON);
            String message = f.catalog.get(m.name()).message();
            System.out.println("POISON catalog message: " + message);
            assertThat(message).contains("partition:offset " + position)
                    .contains("shapeshift sync skip " + m.name() + " " + position)
                    .contains("Nothing was skipped");

            // valid changes after the poison record are held, not applied (and not skipped)
            f.tx("UPDATE src_poison SET a = a + 1000");
            Thread.sleep(4000);
            assertThat(state(worker, m)).isEqualTo(SyncState.STOPPED_POISON);
            assertThat(f.count("SELECT count(*) FROM tgt_poison WHERE doubled >= 2000"))
                    .as("no change applied while stopped").isZero();
            assertThat(f.check(m).stale()).isEqualTo(60);

            // a skip naming another record changes nothing
            SyncSkip.request(f.catalog, m.name(), garbage.partition() + ":" + (garbage.offset() + 1), "ops", "typo");
            Thread.sleep(2500);
            assertThat(state(worker, m)).isEqualTo(SyncState.STOPPED_POISON);

            SyncSkip.request(f.catalog, m.name(), position, "ops", "garbage record produced by a test");
            await().atMost(Duration.ofSeconds(30)).until(() -> state(worker, m) == SyncState.RUNNING);
            f.awaitConverged(m, Duration.ofSeconds(60));
            assertThat(f.catalog.get(m.name()).message()).contains("resumed after skipping record " + position);
            assertThat(f.catalog.auditLog(m.name(), 0, 100)).extracting(AuditEntry::action)
                    .contains("setting sync-skip=" + position, "sync skipped record " + position);
        }
    }

    @Test
    void aTransformErrorStopsSyncUntilTheRowIsFixed(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sync_error")) {
            Migration m = f.migration("ratio", KeyKind.BIGINT, Mode.TABLE, Shape.RATIO);
            Worker worker = f.bridgeAndConvergedWorker(m,
                    "INSERT INTO src_ratio (id, seq, a) SELECT g, g, g FROM generate_series(1, 40) g");

            f.tx("INSERT INTO src_ratio (id, seq, a) VALUES (41, 41, 0)", "UPDATE src_ratio SET a = a + 1 WHERE id <= 5");
            await().atMost(Duration.ofSeconds(30)).until(() -> state(worker, m) == SyncState.STOPPED_ERROR);
            String message = f.catalog.get(m.name()).message();
            System.out.println("ERROR catalog message: " + message);
            assertThat(message).contains("sync stopped").contains("division by zero").contains("Nothing was skipped");
            Thread.sleep(3000);
            assertThat(state(worker, m)).as("not skipped: still stopped").isEqualTo(SyncState.STOPPED_ERROR);
            assertThat(f.count("SELECT count(*) FROM tgt_ratio WHERE id = 41")).isZero();

            // A second worker joins while the first one's sync is stopped: the rebalance gives the first worker
            // partitions again, and their durable rows (what the gates and the status read) must still say
            // STOPPED_ERROR, not the CATCHING_UP a fresh claim writes.
            Worker second = f.worker("w2", new SimpleMeterRegistry(), m.name());
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                java.util.List<dev.shapeshift.catalog.SyncStream> rows = new dev.shapeshift.catalog.SyncStreamStore(f.catalog)
                        .list(m.name());
                assertThat(rows).as("the second worker took part of the stream").anyMatch(r -> "w2".equals(r.owner()));
                assertThat(rows.stream().filter(r -> "w1".equals(r.owner())).toList()).as("rows %s", rows).isNotEmpty()
                        .allMatch(r -> r.state() == dev.shapeshift.catalog.StreamState.STOPPED_ERROR);
            });
            second.close();

            f.tx("UPDATE src_ratio SET a = 4 WHERE id = 41"); // the fix
            await().atMost(Duration.ofSeconds(60)).until(() -> state(worker, m) == SyncState.RUNNING);
            f.awaitConverged(m, Duration.ofSeconds(60));
            assertThat(f.catalog.get(m.name()).message()).contains("resumed after a refresh error");
        }
    }
}
