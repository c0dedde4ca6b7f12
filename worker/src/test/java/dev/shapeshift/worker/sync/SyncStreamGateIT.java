package dev.shapeshift.worker.sync;

import static dev.shapeshift.worker.sync.SyncSteps.produceGarbage;
import static dev.shapeshift.worker.sync.SyncSteps.state;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.BridgeState;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.coordinator.gate.Evidence;
import dev.shapeshift.coordinator.gate.EvidenceReader;
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.coordinator.gate.StoredSpec;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncFixture.Migration;
import dev.shapeshift.worker.sync.SyncFixture.Shape;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The gates read the durable sync stream state, end to end with a real bridge (default 10s
 * heartbeat), Kafka and worker: an idle database proves it is caught up within the default 5s max
 * lag; a poison record closes the verified and reads-switched gates naming the partition, the offset
 * and the skip command while the slot keeps moving (what the old slot-based gate looked at); the skip
 * opens them again.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SyncStreamGateIT {
    private static final Duration MAX_LAG = Duration.ofSeconds(5);

    @Test
    void aPoisonRecordClosesTheGatesUntilItIsSkippedAndAnIdleDatabaseIsCaughtUp(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sync_gate");
             CdcBridge bridge = new CdcBridge(f.bridgeConfig().withHeartbeat(Duration.ofSeconds(10)),
                     new SimpleMeterRegistry())) {
            Migration m = f.migration("pgate", KeyKind.BIGINT, Mode.TABLE, Shape.STANDARD);
            bridge.start();
            assertThat(bridge.awaitState(BridgeState.STREAMING, Duration.ofSeconds(120))).isTrue();
            Worker worker = SyncSteps.convergedOnOneWorker(f, m,
                    "INSERT INTO src_pgate (id, seq, a, b) SELECT g, g, g, 'b' || g FROM generate_series(1, 60) g");
            await().atMost(Duration.ofSeconds(30)).until(() -> f.count("SELECT count(*) FROM shapeshift.sync_stream "
                    + "WHERE migration = 'pgate' AND owner = 'w1' AND state = 'RUNNING'") == SyncFixture.PARTITIONS);

            // An idle database: no writes at all. Every probe must see all streams apply past its position.
            List<Duration> idle = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                GateReport r = gates(f, m, Phase.BACKFILLED, Phase.VERIFIED);
                assertThat(check(r, "sync-streams").passed()).as(r.summary()).isTrue();
                assertThat(check(r, "sync-lag").passed()).as(r.summary()).isTrue();
                idle.add(lag(f, m));
            }
            System.out.println("IDLE catch-up lags (10s bridge heartbeat, probe heartbeat): " + idle);

            RecordMetadata garbage = produceGarbage(f, m, 1);
            String position = garbage.partition() + ":" + garbage.offset();
            await().atMost(Duration.ofSeconds(30)).until(() -> state(worker, m) == SyncState.STOPPED_POISON);
            assertThat(f.count("SELECT count(*) FROM shapeshift.sync_stream WHERE migration = 'pgate' AND partition = 1 "
                    + "AND state = 'STOPPED_POISON' AND stop_offset = " + garbage.offset())).isEqualTo(1);
            long slotBefore = slotPosition(f);
            f.tx("UPDATE src_pgate SET a = a + 1000 WHERE id <= 30");
            for (Phase[] move : new Phase[][] {{Phase.BACKFILLED, Phase.VERIFIED}, {Phase.VERIFIED, Phase.READS_SWITCHED}}) {
                GateReport r = gates(f, m, move[0], move[1]);
                System.out.println("POISON gate " + move[1] + ": " + r.summary());
                assertThat(check(r, "sync-streams").passed()).isFalse();
                assertThat(check(r, "sync-streams").evidence())
                        .contains("partition 1 stopped at poison record, offset " + garbage.offset() + " (worker w1)")
                        .contains("shapeshift sync skip pgate " + position + " --reason");
                assertThat(check(r, "sync-lag").passed()).isFalse();
            }
            // what the old gate looked at keeps moving while the stream is stopped
            await().atMost(Duration.ofSeconds(30)).until(() -> slotPosition(f) > slotBefore);

            SyncSkip.request(f.catalog, m.name(), position, "ops", "garbage record produced by a test");
            await().atMost(Duration.ofSeconds(30)).until(() -> state(worker, m) == SyncState.RUNNING);
            f.awaitConverged(m, Duration.ofSeconds(60));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                GateReport r = gates(f, m, Phase.VERIFIED, Phase.READS_SWITCHED);
                assertThat(check(r, "sync-streams").passed()).as(r.summary()).isTrue();
                assertThat(check(r, "sync-lag").passed()).as(r.summary()).isTrue();
            });
        }
    }

    /** The gate report of {@code from -> to} on the migration's evidence as the coordinator reads it. */
    private static GateReport gates(SyncFixture f, Migration m, Phase from, Phase to) {
        MigrationRecord rec = f.catalog.get(m.name());
        Evidence e = new EvidenceReader(f.catalog).read(rec, StoredSpec.of(rec), MAX_LAG);
        Evidence at = new Evidence(e.migration(), from, e.now().minus(Duration.ofHours(1)), e.now(), e.chunks(),
                e.chunksDone(), e.backfillFinishedAt(), e.slotName(), e.startLsn(), e.lag(), e.lastFullRun(),
                e.openDrift(), e.cleanFor(), e.maxLag(), e.quietPeriod(), e.streams());
        return new Gates().evaluate(at, to);
    }

    private static Duration lag(SyncFixture f, Migration m) {
        MigrationRecord rec = f.catalog.get(m.name());
        return new EvidenceReader(f.catalog).read(rec, StoredSpec.of(rec), MAX_LAG).lag().lag();
    }

    private static Check check(GateReport r, String name) {
        return r.checks().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    private static long slotPosition(SyncFixture f) {
        return f.count("SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots WHERE slot_name = '"
                + f.slot + "'");
    }
}
