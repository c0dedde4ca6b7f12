package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.StreamState;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sinks.MemorySink;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncFixture.Migration;
import dev.shapeshift.worker.sync.SyncFixture.Shape;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The sync of a sink-mode migration on the real stack (PostgreSQL, Debezium bridge, Kafka, the
 * worker) into the memory test sink: changes arrive, a sink that is down degrades the stream with
 * its reason and loses nothing, a row the sink refuses for good is a poison record.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SinkSyncIT {

    @Test
    void aSinkThatIsDownDegradesTheSyncWhichResumesByItselfWithNothingLost(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sink_down")) {
            MemorySink.Store store = MemorySink.store("sink-down");
            Migration m = f.sinkMigration("sinkdown", KeyKind.BIGINT, Shape.STANDARD,
                    Map.of("store", "sink-down", "maxAttempts", "3", "backoff", "20"));
            f.bridge();
            f.awaitCaptured(m);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Worker worker = f.worker("w1", registry, m.name());
            f.tx("INSERT INTO src_sinkdown (id, seq, a, b, big) SELECT g, g, g, 'b' || g, repeat('x', g) "
                    + "FROM generate_series(1, 80) g");
            awaitSinkConverged(f, m, store);

            store.down = true;
            f.tx("UPDATE src_sinkdown SET a = a + 1000 WHERE id <= 40", "DELETE FROM src_sinkdown WHERE id > 70",
                    "INSERT INTO src_sinkdown (id, seq, a, b) VALUES (500, 500, 7, 'new')");
            await().atMost(Duration.ofSeconds(30)).until(() -> state(worker, m) == SyncState.DEGRADED);
            String message = f.catalog.get(m.name()).message();
            System.out.println("DEGRADED catalog message: " + message);
            assertThat(message).contains("sync degraded").contains("sink 'memory' failed 3 attempts to apply")
                    .contains("connection refused").contains("nothing was skipped or committed");
            assertThat(f.count("SELECT count(*) FROM shapeshift.sync_stream WHERE migration = '" + m.name()
                    + "' AND state = '" + StreamState.DEGRADED.name() + "'")).as("a degraded stream in the catalog").isPositive();
            assertThat(registry.get("shapeshift.sync.state").tag("migration", m.name()).gauge().value()).isEqualTo(5.0);
            assertThat(registry.get("shapeshift.sink.failures").tag("migration", m.name()).counter().count())
                    .isGreaterThanOrEqualTo(3);
            Thread.sleep(1500); // still down: it keeps retrying, applies nothing, does not crash
            assertThat(state(worker, m)).isEqualTo(SyncState.DEGRADED);
            assertThat(f.checkSink(m, store.live()).clean()).as("nothing applied while down").isFalse();

            store.down = false;
            await().atMost(Duration.ofSeconds(30)).until(() -> state(worker, m) == SyncState.RUNNING);
            awaitSinkConverged(f, m, store);
            assertThat(f.catalog.get(m.name()).message()).contains("sync resumed: the sink answers again");
            assertThat(f.count("SELECT count(*) FROM shapeshift.sync_stream WHERE migration = '" + m.name()
                    + "' AND state = 'DEGRADED'")).isZero();
        }
    }

    @Test
    void aRowTheSinkRefusesForGoodStopsTheSyncAtItsRecordLikeAPoisonRecord(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sink_poison")) {
            MemorySink.Store store = MemorySink.store("sink-poison");
            Migration m = f.sinkMigration("sinkpoison", KeyKind.BIGINT, Shape.STANDARD, Map.of("store", "sink-poison"));
            f.bridge();
            f.awaitCaptured(m);
            Worker worker = f.worker("w1", new SimpleMeterRegistry(), m.name());
            f.tx("INSERT INTO src_sinkpoison (id, seq, a, b) SELECT g, g, g, 'b' || g FROM generate_series(1, 40) g");
            awaitSinkConverged(f, m, store);

            store.poison.add(SinkKey.of("7"));
            f.tx("UPDATE src_sinkpoison SET a = 700 WHERE id = 7");
            await().atMost(Duration.ofSeconds(30)).until(() -> state(worker, m) == SyncState.STOPPED_POISON);
            String message = f.catalog.get(m.name()).message();
            System.out.println("POISON catalog message: " + message);
            assertThat(message).contains("sync stopped at a change record whose row the sink refused")
                    .doesNotContain("undecodable").contains("sink 'memory' refused the row of key 7 for good")
                    .contains("Nothing was skipped").contains("shapeshift sync skip " + m.name());
            Matcher at = Pattern.compile("partition:offset (\\d+:\\d+)").matcher(message);
            assertThat(at.find()).isTrue();

            // later changes in its partition are held, not applied and not skipped
            f.tx("UPDATE src_sinkpoison SET a = a + 1");
            Thread.sleep(3000);
            assertThat(state(worker, m)).isEqualTo(SyncState.STOPPED_POISON);
            assertThat(f.checkSink(m, store.live()).clean()).isFalse();

            // the operator skips exactly that record; the row is fixed on the sink's side and written again
            store.poison.clear();
            SyncSkip.request(f.catalog, m.name(), at.group(1), "ops", "row refused by the sink, fixed there");
            await().atMost(Duration.ofSeconds(30)).until(() -> state(worker, m) == SyncState.RUNNING);
            f.tx("UPDATE src_sinkpoison SET b = 'again' WHERE id = 7");
            awaitSinkConverged(f, m, store);
        }
    }

    private static void awaitSinkConverged(SyncFixture f, Migration m, MemorySink.Store store) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(f.checkSink(m, store.live())).satisfies(c ->
                        assertThat(c.clean()).as("sink vs model: %s", c).isTrue()));
    }

    private static SyncState state(Worker w, Migration m) {
        return w.sync(m.name()).map(SyncConsumer::state).orElse(SyncState.STARTING);
    }
}
