package dev.shapeshift.launcher.bench;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.coordinator.plan.ChunkPlanner;
import dev.shapeshift.coordinator.plan.ChunkPublisher;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import dev.shapeshift.kafka.KafkaClientSettings;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.spec.Backfill;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.Source;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Target;
import dev.shapeshift.worker.backfill.BackfillConfig;
import dev.shapeshift.worker.backfill.ChunkConsumer;
import dev.shapeshift.worker.backfill.ChunkCopier.BatchListener;
import dev.shapeshift.worker.throttle.SyncBacklog;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shapeshift's real backfill path on a fresh table: a migration in the catalog, the chunk plan of
 * {@link ChunkPlanner}, tasks published by {@link ChunkPublisher}, and n {@link ChunkConsumer}s on
 * threads of this JVM — or, with {@code --worker-jvms}, n child JVMs ({@link WorkerJvms}) — until every
 * chunk is done. Child workers report no sub-batch times (they run in another process). The consumers join the group before the tasks
 * are published (as long-running worker pods would), so the timed part is plan → last chunk done.
 */
record WorkerRun(Database db, String bootstrap, BenchOptions o, ServerCpu cpu) {
    private static final Logger log = LoggerFactory.getLogger(WorkerRun.class);
    private static final AtomicInteger RUNS = new AtomicInteger();

    /** Told when the timed part of a run starts (the migration exists, nothing published yet) and ends. */
    interface Window {
        Window NONE = new Window() {
        };

        default void started(String migration) throws Exception {
        }

        default void ended() throws Exception {
        }
    }

    Measurement run(Connection c, int workers) throws Exception {
        return run(c, workers, Window.NONE);
    }

    Measurement run(Connection c, int workers, Window window) throws Exception {
        BenchTables.fresh(c, o.rows(), o.mode());
        String migration = "bench-" + (o.mode() == Mode.TABLE ? "table" : "inplace") + "-" + workers + "w-"
                + RUNS.incrementAndGet() + "-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        MigrationSpec spec = new MigrationSpec(migration, new Source("public", BenchTables.SOURCE, List.of("id")), o.mode(),
                new Target("public", o.mode() == Mode.TABLE ? BenchTables.TARGET : BenchTables.SOURCE, BenchTables.COLUMNS),
                null, new Backfill(o.chunkRows(), o.batchRows(), Duration.ofMillis(300), 0L, Duration.ofMillis(200), o.maxHeapGrowth()),
                null, null, null);
        ResolvedSpec resolved = SpecValidator.resolveExpanded("bench", spec, c);
        Catalog catalog = new Catalog(db, "bench");
        catalog.create(migration, SpecJson.write(spec), "bench", "bench");
        ChunkStore store = new ChunkStore(catalog);
        Topics.ensure(bootstrap, Map.of(Topics.chunks(migration), o.partitions()), (short) 1);

        Latencies latencies = new Latencies();
        BatchListener listener = new BatchListener() {
            @Override
            public void committed(ChunkStore.Lease lease, dev.shapeshift.refresh.Key after,
                                  dev.shapeshift.refresh.RefreshResult result) {
            }

            @Override
            public void committed(ChunkStore.Lease lease, dev.shapeshift.refresh.Key after,
                                  dev.shapeshift.refresh.RefreshResult result, Duration transaction) {
                latencies.add(transaction.toNanos());
            }
        };
        List<ChunkConsumer> consumers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        WorkerJvms jvms = o.workerJvms() ? WorkerJvms.start(db, bootstrap, migration, workers, o.workerHeap()) : null;
        for (int i = 1; jvms == null && i <= workers; i++) {
            BackfillConfig config = BackfillConfig.defaults("bench-w" + i);
            ChunkConsumer consumer = new ChunkConsumer(db, bootstrap, resolved, config, SyncBacklog.NONE, listener);
            Thread t = new Thread(consumer, "bench-worker-" + i);
            consumers.add(consumer);
            threads.add(t);
            t.start();
        }
        try {
            awaitGroup(Topics.group(migration, "backfill"), workers);
            String table = BenchTables.written(o.mode());
            BenchTables.Sizes before = BenchTables.sizes(c, table);
            try (var s = c.createStatement()) {
                s.execute("CHECKPOINT");
            }
            String lsn = BenchTables.walLsn(c);
            boolean peakReset = ProcessMemory.resetPeak();
            double db0 = cpu.serverSeconds();
            double jvm0 = ServerCpu.jvmSeconds() + (jvms == null ? 0 : jvms.cpuSeconds());
            window.started(migration);
            long t0 = System.nanoTime();
            List<ChunkStore.Chunk> plan = new ChunkPlanner(store).plan(resolved);
            new ChunkPublisher(bootstrap, o.partitions()).publish(migration, plan);
            double setup = (System.nanoTime() - t0) / 1e9;
            long[] totals;
            while (true) {
                // On the benchmark's own connection: ChunkStore.totals opens a connection per call.
                totals = progress(c, migration);
                if (totals[1] == totals[0] || totals[2] > 0) {
                    break;
                }
                if (jvms != null) {
                    jvms.checkAlive();
                }
                Thread.sleep(50);
            }
            long nanos = System.nanoTime() - t0;
            window.ended();
            double dbCpu = cpu.serverSeconds() - db0;
            double jvmCpu = ServerCpu.jvmSeconds() + (jvms == null ? 0 : jvms.cpuSeconds()) - jvm0;
            long wal = BenchTables.walBytesSince(c, lsn);
            BenchTables.Sizes after = BenchTables.sizes(c, table);
            if (totals[2] > 0) {
                throw new IllegalStateException(totals[2] + " chunks failed; see the log");
            }
            Long benchRss = peakReset ? ProcessMemory.peakMb() : null;
            List<Long> workerRss = null;
            if (jvms != null) {
                jvms.close();
                workerRss = jvms.peakRssMb();
            }
            BenchTables.Sizes compact = BenchTables.compact(c, table);
            int vacuums = (int) BenchTables.count(c, "SELECT count(*) FROM shapeshift.backfill_vacuum WHERE migration = '"
                    + migration + "'");
            int reLeases = (int) BenchTables.count(c, "SELECT coalesce(sum(attempts), 0) - count(*) FROM shapeshift.chunk "
                    + "WHERE migration = '" + migration + "'");
            Measurement m = new Measurement("shapeshift", workers, totals[3], nanos / 1e9, wal,
                    before.heapBytes(), after.heapBytes(), before.indexBytes(), after.indexBytes(), jvms == null ? Long.valueOf(latencies.count()) : null,
                    latencies.percentile(50), latencies.percentile(99), latencies.percentile(100), vacuums, reLeases,
                    benchRss, dbCpu, jvmCpu, setup, idleMsPerChunk(c, migration), compact.heapBytes(),
                    compact.indexBytes(), workerRss);
            log.info("bench shapeshift mode={} workers={} rows={} chunks={} seconds={} rows_per_s={} sub_batches={} "
                            + "p50_ms={} p99_ms={} vacuums={} re_leases={} wal_bytes={} heap_bloat={} worker_rss_mb={}",
                    o.mode(), workers, totals[3], totals[0], String.format("%.2f", m.seconds()),
                    Math.round(m.rowsPerSecond()), latencies.count(), m.p50Ms(), m.p99Ms(), vacuums, reLeases, wal,
                    String.format("%.3f", m.heapBloat()), workerRss);
            return m;
        } finally {
            if (jvms != null) {
                jvms.close();
            }
            consumers.forEach(ChunkConsumer::close);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
    }

    /** Chunks, done, failed, rows copied. */
    private static long[] progress(Connection c, String migration) throws SQLException {
        return Sql.one(c, "SELECT count(*), count(*) FILTER (WHERE status = 'done'), "
                + "count(*) FILTER (WHERE status = 'failed'), coalesce(sum(rows_copied), 0) FROM shapeshift.chunk "
                + "WHERE migration = ?", rs -> new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)},
                migration);
    }

    /** Mean gap, per worker, between finishing one chunk and starting the next (Kafka, lease, commit). */
    private static double idleMsPerChunk(Connection c, String migration) throws SQLException {
        return Sql.one(c, "SELECT coalesce(avg(gap), 0) * 1000 FROM (SELECT extract(epoch FROM started_at "
                + "- lag(finished_at) OVER (PARTITION BY owner ORDER BY started_at)) AS gap FROM shapeshift.chunk "
                + "WHERE migration = ?) g WHERE gap IS NOT NULL", rs -> rs.getDouble(1), migration);
    }

    /** Waits until all n consumers are members with partitions, so the timed part has no joins. */
    private void awaitGroup(String group, int members) throws InterruptedException, SQLException {
        Properties p = KafkaClientSettings.apply(new Properties());
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        try (Admin admin = Admin.create(p)) {
            while (System.nanoTime() < deadline) {
                try {
                    ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                    boolean ready = d.members().size() == members
                            && d.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty());
                    if (ready) {
                        return;
                    }
                } catch (ExecutionException e) {
                    log.debug("group not described yet group={} error={}", group, e.getCause().toString());
                }
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("consumer group " + group + " did not reach " + members + " members in 60s");
    }
}
