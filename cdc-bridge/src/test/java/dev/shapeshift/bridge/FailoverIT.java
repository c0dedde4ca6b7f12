package dev.shapeshift.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.change.ChangeEvent;
import dev.shapeshift.embedded.ChildJvm;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class FailoverIT {

    @Test
    void inJvmStopWithoutFlushLosesNoKey(PostgresServer pg, KafkaBroker kafka) throws Exception {
        BridgeFixture f = BridgeFixture.withItems(pg, kafka, "abort", "abort_m", "a");
        int total;
        CdcBridge first = f.streaming();
        // writes before the slot's start LSN are backfill's job: the burst starts once sync covers the table
        try (Burst burst = new Burst(f, "items", 2)) {
            Thread.sleep(1500);
            first.abort();
            CdcBridge second = new CdcBridge(f.config(), new SimpleMeterRegistry());
            int atAbort = burst.committed();
            second.start();
            assertThat(second.awaitState(BridgeState.STREAMING, Duration.ofSeconds(90))).isTrue();
            Thread.sleep(1000);
            burst.close();
            total = burst.committed();
            System.out.printf("ABORT first published=%.0f committed_at_abort=%d%n", first.metrics().published(), atAbort);
            await().atMost(Duration.ofSeconds(20)).until(() -> second.metrics().published() > 0);
            System.out.printf("ABORT second published=%.0f%n", second.metrics().published());
            assertAllKeys(f, "abort_m", total);
            // The audit log shows the failover: the first term started the sync, the second took over.
            assertThat(f.catalog.auditLog("abort_m", 0, 1000).stream().map(a -> a.action()).toList())
                    .containsOnlyOnce("sync-started", LeaderTerm.LEADER_TERM_ACTION);
            second.stop();
        }
    }

    @Test
    void standbyTakesOverWhenTheLeaderJvmIsKilled(PostgresServer pg, KafkaBroker kafka) throws Exception {
        BridgeFixture f = BridgeFixture.withItems(pg, kafka, "failover", "failover_m", "a");
        BridgeConfig config = f.config();
        Process leader = child(config);
        try {
            await().atMost(Duration.ofSeconds(90)).until(() -> f.catalog.get("failover_m").startLsn() != null);
            try (CdcBridge standby = new CdcBridge(config, new SimpleMeterRegistry());
                 Burst burst = new Burst(f, "items", 2)) {
                standby.start();
                Thread.sleep(2000);
                assertThat(standby.state()).isEqualTo(BridgeState.STANDBY);
                long killedAt = System.nanoTime();
                leader.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL mid-burst
                assertThat(standby.awaitState(BridgeState.STREAMING, Duration.ofSeconds(60))).isTrue();
                System.out.printf("TAKEOVER standby streaming %d ms after SIGKILL of the leader%n",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt));
                Thread.sleep(1000);
                burst.close();
                assertAllKeys(f, "failover_m", burst.committed());
            }
        } finally {
            leader.destroyForcibly();
        }
    }

    private static void assertAllKeys(BridgeFixture f, String migration, int total) {
        Set<Long> expected = LongStream.rangeClosed(1, total).boxed().collect(Collectors.toCollection(TreeSet::new));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            List<ChangeEvent> events = f.events(migration, Duration.ofSeconds(1));
            Set<Long> seen = events.stream().map(e -> Long.parseLong(e.key().get(0))).collect(Collectors.toSet());
            TreeSet<Long> missing = new TreeSet<>(expected);
            missing.removeAll(seen);
            System.out.printf("BURST migration=%s written=%d events=%d duplicates=%d missing=%d first_missing=%s "
                            + "last_missing=%s%n", migration, total, events.size(), events.size() - seen.size(),
                    missing.size(), missing.isEmpty() ? "-" : missing.first(), missing.isEmpty() ? "-" : missing.last());
            assertThat(missing).isEmpty();
        });
    }

    /** The bridge of {@code c} ({@link BridgeFixture#config()}) in a JVM of its own ({@link BridgeChild}). */
    static Process child(BridgeConfig c) throws Exception {
        return ChildJvm.main(BridgeChild.class).options("-Xmx256m").args(c.database().jdbcUrl(), c.database().user(),
                c.database().password(), c.bootstrapServers(), c.slot()).startInheritingIo();
    }
}
