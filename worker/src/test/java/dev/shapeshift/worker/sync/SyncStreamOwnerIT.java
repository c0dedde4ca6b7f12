package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.StreamState;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.catalog.SyncStreamStore;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncFixture.Migration;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Partitions that move between workers move their sync stream rows with them: a second worker
 * takes some over (and starts catching up), and when it leaves the first takes them back; every
 * stream ends RUNNING with positions past where they were.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SyncStreamOwnerIT {

    @Test
    void streamsFollowTheirPartitionsToTheirNewOwner(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sync_owner")) {
            Migration m = f.migration("owner");
            f.bridge();
            f.awaitCaptured(m);
            SyncStreamStore store = new SyncStreamStore(f.catalog);
            f.worker("w1", new SimpleMeterRegistry(), m.name());
            await().atMost(Duration.ofSeconds(60)).until(() -> owners(store, m).equals(
                    Map.of("w1", (long) SyncFixture.PARTITIONS)) && allRunning(store, m));
            long before = minOffset(store, m);

            Worker w2 = f.worker("w2", new SimpleMeterRegistry(), m.name());
            await().atMost(Duration.ofSeconds(60)).until(() -> owners(store, m).keySet().equals(java.util.Set.of("w1", "w2"))
                    && allRunning(store, m));
            System.out.println("OWNERS with two workers: " + owners(store, m));

            w2.close();
            f.tx(SyncFixture.insertRows(m, 30));
            await().atMost(Duration.ofSeconds(60)).until(() -> owners(store, m).equals(
                    Map.of("w1", (long) SyncFixture.PARTITIONS)) && allRunning(store, m));
            f.awaitConverged(m, Duration.ofSeconds(60));
            await().atMost(Duration.ofSeconds(30)).until(() -> minOffset(store, m) > before);
        }
    }

    private static Map<String, Long> owners(SyncStreamStore store, Migration m) {
        return store.list(m.name()).stream().collect(Collectors.groupingBy(SyncStream::owner, Collectors.counting()));
    }

    private static boolean allRunning(SyncStreamStore store, Migration m) {
        List<SyncStream> streams = store.list(m.name());
        return streams.size() == SyncFixture.PARTITIONS && streams.stream().allMatch(s -> s.state() == StreamState.RUNNING);
    }

    private static long minOffset(SyncStreamStore store, Migration m) {
        return store.list(m.name()).stream().mapToLong(s -> s.appliedOffset() == null ? -1 : s.appliedOffset()).min()
                .orElse(-1);
    }
}
