package dev.shapeshift.worker.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.fixtures.RowCheck;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.RefreshResult;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.worker.backfill.ChunkCopier.BatchListener;
import dev.shapeshift.worker.throttle.SyncBacklog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.ParameterizedTest;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.refresh.Refresher;
import org.junit.jupiter.api.extension.ExtendWith;

/** Chunk plan → Kafka → workers → catalog, against real PostgreSQL and Kafka. */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class BackfillIT {
    private final PostgresServer pg;
    private final KafkaBroker kafka;

    BackfillIT(PostgresServer pg, KafkaBroker kafka) {
        this.pg = pg;
        this.kafka = kafka;
    }

    /** One committed sub-batch as a worker saw it. */
    record Batch(String worker, int chunk, long epoch, Key after, RefreshResult result) {
    }

    /** Workers of one migration, each a consumer on its own thread. */
    static final class Workers implements AutoCloseable {
        final ConcurrentLinkedQueue<Batch> batches = new ConcurrentLinkedQueue<>();
        final List<ChunkConsumer> consumers = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();

        Workers(BackfillFixture f, String bootstrap, int n) {
            for (int i = 1; i <= n; i++) {
                String id = "w" + i;
                BatchListener listener = (lease, after, result) ->
                        batches.add(new Batch(id, lease.chunk(), lease.epoch(), after, result));
                ChunkConsumer c = new ChunkConsumer(f.db, bootstrap, f.resolved, BackfillFixture.config(id),
                        SyncBacklog.NONE, listener);
                consumers.add(c);
                Thread t = new Thread(c, "backfill-" + id);
                threads.add(t);
                t.start();
            }
        }

        @Override
        public void close() throws InterruptedException {
            consumers.forEach(ChunkConsumer::close);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
    }

    private static void awaitDone(BackfillFixture f, Duration within) {
        await().atMost(within).pollInterval(Duration.ofMillis(200)).until(() -> {
            var t = f.store.totals(f.migration);
            return t.chunks() > 0 && t.done() == t.chunks();
        });
    }

    @Test
    void threeWorkersBackfillSparseIntegerKeysUnderWriteLoad() throws Exception {
        BackfillFixture f = new BackfillFixture(pg, KeyKind.BIGINT, Mode.TABLE,
                BackfillFixture.backfill(400, 50, 0)).create(5000);
        runThreeWorkersUnderLoad(f, 5000);
    }

    @Test
    void threeWorkersBackfillCompositeKeysInPlaceUnderWriteLoad() throws Exception {
        BackfillFixture f = new BackfillFixture(pg, KeyKind.COMPOSITE, Mode.IN_PLACE,
                BackfillFixture.backfill(400, 50, 0)).create(5000);
        runThreeWorkersUnderLoad(f, 5000);
        try (Connection c = f.db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*), count(finished_at), max(table_bytes_after) "
                     + "FROM shapeshift.backfill_vacuum")) {
            rs.next();
            assertThat(rs.getInt(1)).as("vacuums between batches in place").isGreaterThanOrEqualTo(5);
            assertThat(rs.getInt(2)).isEqualTo(rs.getInt(1));
        }
    }

    /** Waits until the consumer group has {@code n} members that each own at least one partition. */
    private void awaitGroupMembers(String group, int n) {
        try (Admin admin = Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                var d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                return d.members().size() == n
                        && d.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty());
            });
        }
    }

    private void runThreeWorkersUnderLoad(BackfillFixture f, int rows) throws Exception {
        List<Chunk> plan;
        Workers workers;
        try (Workload load = new Workload(f, rows)) {
            Thread.sleep(300);
            // The workers join the group before any task exists, so the tasks are spread over all
            // three from the start (as the coordinator does it: workers run before a plan is published).
            Topics.ensure(kafka.bootstrapServers(), Map.of(Topics.chunks(f.migration), 6), (short) 1);
            workers = new Workers(f, kafka.bootstrapServers(), 3);
            awaitGroupMembers(Topics.group(f.migration, "backfill"), 3);
            plan = f.planAndPublish(kafka.bootstrapServers());
            assertThat(plan.size()).isGreaterThan(5);
            awaitDone(f, Duration.ofSeconds(120));
            assertThat(load.writes.get()).as("the load ran during the backfill").isGreaterThan(100);
        }
        workers.close();

        RowCheck check = f.check();
        assertThat(check).as("target = transform(source)").isEqualTo(new RowCheck(0, 0, 0));

        // The plan tiles the key space: open ends, each lower bound is the previous upper, strictly increasing.
        assertThat(plan.get(0).lower()).isNull();
        assertThat(plan.get(plan.size() - 1).upper()).isNull();
        for (int i = 1; i < plan.size(); i++) {
            assertThat(plan.get(i).lower()).isEqualTo(plan.get(i - 1).upper());
            if (i > 1) {
                assertThat(f.less(plan.get(i - 1).lower(), plan.get(i).lower())).isTrue();
            }
        }

        // Every chunk done once: its committed sub-batches form one chain from its lower bound to its
        // end, and the catalog's rows_copied is exactly what those batches read.
        List<Chunk> chunks = f.store.chunks(f.migration);
        Map<Integer, List<Batch>> byChunk = new HashMap<>();
        for (Batch b : workers.batches) {
            byChunk.computeIfAbsent(b.chunk(), k -> new ArrayList<>()).add(b);
        }
        long totalRead = 0;
        for (Chunk ch : chunks) {
            assertThat(ch.status()).isEqualTo("done");
            List<Batch> bs = byChunk.getOrDefault(ch.number(), List.of());
            assertThat(bs).as("chunk %s batches", ch.number()).isNotEmpty();
            assertThat(bs.stream().map(Batch::epoch).distinct().count()).as("one lease per chunk").isEqualTo(1);
            Key expectAfter = null;
            long read = 0;
            for (Batch b : bs) {
                assertThat(b.after()).as("chunk %s: each batch starts at the previous one's last key", ch.number())
                        .isEqualTo(expectAfter);
                if (b.result().lastKey() != null) {
                    expectAfter = b.result().lastKey();
                }
                read += b.result().read();
            }
            assertThat(ch.rowsCopied()).isEqualTo(read);
            assertThat(Objects.equals(ch.lastKey(), expectAfter)).isTrue();
            totalRead += read;
        }
        assertThat(f.store.totals(f.migration).rowsCopied()).isEqualTo(totalRead);
        long workersUsed = workers.batches.stream().map(Batch::worker).distinct().count();
        assertThat(workersUsed).as("chunks spread over workers").isGreaterThan(1);
    }

    @Test
    void pauseStopsRowsMovingAndTheRateCapHolds() throws Exception {
        BackfillFixture f = new BackfillFixture(pg, KeyKind.BIGINT, Mode.TABLE,
                BackfillFixture.backfill(500, 100, 0)).create(4000);
        long cap = 600;
        f.catalog.putSetting(f.migration, "max-rows-per-second", Long.toString(cap), "test", "rate cap test");
        f.planAndPublish(kafka.bootstrapServers());
        try (Workers workers = new Workers(f, kafka.bootstrapServers(), 1)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> f.store.totals(f.migration).rowsCopied() > 300);

            long r0 = f.store.totals(f.migration).rowsCopied();
            long t0 = System.nanoTime();
            Thread.sleep(3000);
            long r1 = f.store.totals(f.migration).rowsCopied();
            double rate = (r1 - r0) * 1e9 / (System.nanoTime() - t0);
            assertThat(rate).as("observed rate under a cap of %s rows/s", cap).isLessThanOrEqualTo(cap * 1.5).isPositive();
            assertThat(workers.consumers.get(0).throttleReason()).isEqualTo("rate cap 600 rows/s");

            f.catalog.putSetting(f.migration, "paused", "true", "test", "pause test");
            Thread.sleep(1500);
            long p0 = f.store.totals(f.migration).rowsCopied();
            Thread.sleep(3000);
            long p1 = f.store.totals(f.migration).rowsCopied();
            assertThat(p1).as("no rows move while paused").isEqualTo(p0);
            assertThat(workers.consumers.get(0).throttleReason()).isEqualTo("paused by operator");
            assertThat(f.store.totals(f.migration).done()).isLessThan(f.store.totals(f.migration).chunks());
            // The wait reaches the catalog (status, the dashboard, `backfill status` read it there).
            assertThat(f.store.throttled(f.migration)).singleElement().satisfies(t -> {
                assertThat(t.reason()).isEqualTo("paused by operator");
                assertThat(t.owner()).isNotNull();
                assertThat(t.since()).isNotNull();
            });

            f.catalog.putSetting(f.migration, "paused", "false", "test", "resume");
            f.catalog.putSetting(f.migration, "max-rows-per-second", "0", "test", "uncap");
            awaitDone(f, Duration.ofSeconds(60));
            assertThat(f.store.throttled(f.migration)).as("no chunk runs, none waits").isEmpty();
        }
        assertThat(f.check().clean()).isTrue();
    }

    /**
     * An application transaction holding row locks in a chunk is never aborted by the backfill.
     * In table mode the chunk takes no row lock, so it finishes while the locks are still held;
     * in place its UPDATE waits (short lock timeouts, retried) until the application commits.
     * Either way, after the sync's refresh of the keys the application changed (the part of the
     * job a change event does), the target equals transform(source).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Mode.class, names = {"IN_PLACE", "TABLE"}) // sinks: SinkBackfillIT
    void applicationRowLocksAreNeverAbortedByTheBackfill(Mode mode) throws Exception {
        BackfillFixture f = new BackfillFixture(pg, KeyKind.BIGINT, mode,
                BackfillFixture.backfill(2000, 200, 0)).create(1500);
        f.planAndPublish(kafka.bootstrapServers());
        List<Key> changed = new ArrayList<>();
        try (Connection app = f.db.connect("app")) {
            app.setAutoCommit(false);
            try (PreparedStatement ps = app.prepareStatement("SELECT id FROM src WHERE id BETWEEN 30 AND 60 FOR UPDATE");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    changed.add(Key.of(rs.getLong(1)));
                }
            }
            try (Workers workers = new Workers(f, kafka.bootstrapServers(), 1)) {
                if (mode == Mode.TABLE) {
                    awaitDone(f, Duration.ofSeconds(60));
                } else {
                    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                            .until(() -> f.store.totals(f.migration).done() < f.store.totals(f.migration).chunks());
                }
                try (Statement s = app.createStatement()) {
                    s.executeUpdate("UPDATE src SET a = a + 1 WHERE id BETWEEN 30 AND 60");
                }
                app.commit();
                awaitDone(f, Duration.ofSeconds(60));
                assertThat(f.store.totals(f.migration).rowsCopied()).isEqualTo(1500);
            }
        }
        assertThat(changed).as("the application locked rows of the first chunk").hasSize(11);
        Refresher sync = new Refresher(f.resolved);
        WorkerTransactions tx = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);
        try (Connection c = f.db.connect("sync")) {
            tx.run(c, conn -> sync.refresh(conn, changed));
        }
        assertThat(f.check()).isEqualTo(new RowCheck(0, 0, 0));
    }
}
