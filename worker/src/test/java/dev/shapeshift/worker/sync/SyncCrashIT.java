package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncFixture.Check;
import dev.shapeshift.worker.sync.SyncFixture.Migration;
import dev.shapeshift.worker.sync.SyncFixture.Shape;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Workers and the bridge die or freeze while the application writes; the new shape still ends
 * equal to transform(source). Child JVMs are killed with SIGKILL or frozen with SIGSTOP.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SyncCrashIT {
    private static final int KEYS = 400;

    @Test
    void aKilledWorkersPartitionsAreTakenOverAndNothingIsLost(PostgresServer pg, KafkaBroker kafka) throws Exception {
        underLoad(pg, kafka, "sync_kill", "kill", (f, m, child, writes) -> {
            Thread.sleep(4000);
            long before = writes.transactions();
            child.destroyForcibly(); // SIGKILL while changes stream in
            assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
            System.out.printf("KILL worker child killed after %d application transactions%n", before);
            awaitW2OwnsEveryPartition(f, m);
            Thread.sleep(2000);
            writes.close();
            System.out.printf("KILL application transactions=%d row_changes=%d%n", writes.transactions(),
                    writes.rowChanges());
            Check c = f.awaitConverged(m, Duration.ofSeconds(90));
            System.out.println("KILL converged " + c);
        });
    }

    @Test
    void aFrozenWorkerThatWakesUpCannotWriteStaleData(PostgresServer pg, KafkaBroker kafka) throws Exception {
        underLoad(pg, kafka, "sync_stop", "frozen", (f, m, child, writes) -> {
            Thread.sleep(3000);
            SyncFixture.signal(child, "STOP");
            long frozenAt = System.nanoTime();
            // past the 6s session timeout: w2 takes every partition and applies newer changes
            awaitW2OwnsEveryPartition(f, m);
            Thread.sleep(3000);
            System.out.printf("STOP worker child frozen for %d ms, w2 owns all partitions%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenAt));
            SyncFixture.signal(child, "CONT");
            Thread.sleep(5000); // the woken worker finishes whatever batch it held, then rejoins
            writes.close();
            System.out.printf("STOP application transactions=%d row_changes=%d assignments=%s%n",
                    writes.transactions(), writes.rowChanges(), f.syncAssignments(m));
            Check c = f.awaitConverged(m, Duration.ofSeconds(90));
            System.out.println("STOP converged " + c);
            assertThat(child.isAlive()).as("the woken worker carries on").isTrue();
        });
    }

    /** What a test does to worker w1's child JVM while the application writes, and what it checks after. */
    private interface Crash {
        void run(SyncFixture f, Migration m, Process child, Writes writes) throws Exception;
    }

    /**
     * The migration {@code name} (bigint keys, table mode) in a new database {@code database},
     * synced by worker w1 in a child JVM and w2 in this one while the application writes to
     * {@value #KEYS} keys; then {@code crash}.
     */
    private static void underLoad(PostgresServer pg, KafkaBroker kafka, String database, String name, Crash crash)
            throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, database)) {
            Migration m = f.migration(name, KeyKind.BIGINT, Mode.TABLE, Shape.STANDARD);
            Process child = childAndW2(f, m);
            try (Writes writes = new Writes(f, m, KEYS, 3)) {
                crash.run(f, m, child, writes);
            }
        }
    }

    @Test
    void aKilledBridgeRestartsWithoutLosingChanges(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sync_bridge")) {
            Migration m = f.migration("bridgekill", KeyKind.BIGINT, Mode.TABLE, Shape.STANDARD);
            Process bridge = f.bridgeChild("bridge1");
            f.awaitCaptured(m);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Worker worker = f.worker("w1", registry, m.name());
            try (Writes writes = new Writes(f, m, KEYS, 3)) {
                Thread.sleep(4000);
                bridge.destroyForcibly(); // SIGKILL mid-burst
                assertThat(bridge.waitFor(20, TimeUnit.SECONDS)).isTrue();
                long atKill = writes.transactions();
                Thread.sleep(2000);
                f.bridgeChild("bridge2");
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() ->
                        f.count("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + f.slot + "' AND active") == 1);
                Thread.sleep(3000);
                writes.close();
                System.out.printf("BRIDGE killed after %d transactions; total transactions=%d row_changes=%d%n",
                        atKill, writes.transactions(), writes.rowChanges());
                Check c = f.awaitConverged(m, Duration.ofSeconds(120));
                SyncMetrics metrics = worker.syncMetrics(m.name()).orElseThrow();
                System.out.printf("BRIDGE converged %s; change events consumed=%.0f for %d row changes (duplicates "
                        + "from the replay are harmless)%n", c, metrics.events(), writes.rowChanges());
            }
        }
    }

    @Test
    void aTerminatedDatabaseSessionIsReopenedWithoutAStop(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sync_reconnect")) {
            Migration m = f.migration("reconnect");
            Worker worker = f.bridgeAndConvergedWorker(m, SyncFixture.insertRows(m, 50));
            long killed = f.count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                    + "application_name = 'shapeshift-worker-sync' AND datname = current_database()");
            assertThat(killed).isEqualTo(1);
            f.tx("UPDATE src_reconnect SET a = a + 1000");
            Check c = f.awaitConverged(m, Duration.ofSeconds(60));
            System.out.println("RECONNECT converged after the sync session was terminated " + c);
            assertThat(worker.sync(m.name()).orElseThrow().state()).isEqualTo(SyncState.RUNNING);
        }
    }

    /**
     * The bridge in process once it captures {@code m}, a worker child JVM "child" and worker "w2" in
     * process, both with partitions of the sync.
     */
    private static Process childAndW2(SyncFixture f, Migration m) throws Exception {
        f.bridge();
        f.awaitCaptured(m);
        Process child = f.workerChild("child", m);
        f.worker("w2", new SimpleMeterRegistry(), m.name());
        awaitMembers(f, m, "child", "w2");
        return child;
    }

    private static void awaitW2OwnsEveryPartition(SyncFixture f, Migration m) {
        await().atMost(Duration.ofSeconds(40)).until(() -> f.syncAssignments(m).getOrDefault(client(m, "w2"), 0)
                == SyncFixture.PARTITIONS);
    }

    private static String client(Migration m, String workerId) {
        return "shapeshift-sync-" + m.name() + "-" + workerId;
    }

    private static void awaitMembers(SyncFixture f, Migration m, String... workers) {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
            Map<String, Integer> a = f.syncAssignments(m);
            for (String w : workers) {
                if (a.getOrDefault(client(m, w), 0) == 0) {
                    return false;
                }
            }
            return true;
        });
    }
}
