package dev.shapeshift.worker.backfill;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.ChunkStore.Acquired;
import dev.shapeshift.catalog.ChunkStore.Lease;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.kafka.KafkaClientSettings;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.sinks.SinkApplier;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.worker.backfill.ChunkCopier.BatchListener;
import dev.shapeshift.worker.backfill.ChunkCopier.Outcome;
import dev.shapeshift.worker.throttle.SignalCollector;
import dev.shapeshift.worker.throttle.SyncBacklog;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backfill worker of one migration: a member of the consumer group
 * {@code shapeshift.<migration>.backfill} over the chunks topic. Takes one chunk task at a time,
 * leases the chunk in the catalog, copies it with {@link ChunkCopier}, and commits the Kafka
 * offset only once the chunk is done (auto-commit is off). While a chunk is copied all partitions
 * are paused and the consumer keeps polling, so it stays in the group; if the chunk's partition is
 * revoked the copy stops after the current sub-batch and gives the lease back.
 *
 * <p>Run it on its own thread; {@link #close()} asks it to stop after the current sub-batch.
 *
 * <p>Why one class of ~320 lines: the poll loop, the keep-alive polls while a chunk is copied, the
 * offset commits and the rebalance listener all act on one {@link KafkaConsumer} and its
 * {@code owned}/{@code busy} state, which only this consumer's thread may touch (a Kafka consumer is
 * not thread-safe); the database session and its replication origin live apart in {@link
 * BackfillSession}, the copy itself in {@link ChunkCopier}.
 */
public final class ChunkConsumer implements Runnable, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChunkConsumer.class);

    private enum Next { COMMIT, REDELIVER }

    private final String bootstrapServers;
    private final ResolvedSpec resolved;
    private final BackfillConfig config;
    private final String migration;
    private final ChunkStore store;
    private final SignalCollector signals;
    private final BatchListener listener;
    private final Set<TopicPartition> owned = new HashSet<>();
    private volatile boolean stopping;
    private volatile ChunkCopier copier;
    private KafkaConsumer<String, String> consumer;
    private final BackfillSession session;
    private boolean busy;

    public ChunkConsumer(Database db, String bootstrapServers, ResolvedSpec resolved, BackfillConfig config,
                         SyncBacklog syncBacklog) {
        this(db, bootstrapServers, resolved, config, syncBacklog, BatchListener.NONE);
    }

    /** With a listener that sees every committed sub-batch (tests, the benchmark). */
    public ChunkConsumer(Database db, String bootstrapServers, ResolvedSpec resolved, BackfillConfig config,
                         SyncBacklog syncBacklog, BatchListener listener) {
        this.bootstrapServers = bootstrapServers;
        this.resolved = resolved;
        this.config = config;
        this.migration = resolved.spec().name();
        this.store = new ChunkStore(new Catalog(db, "worker"));
        this.signals = new SignalCollector(store, migration, resolved.spec().backfill().maxRowsPerSecond(),
                config.leaseTimeout(), syncBacklog, config.limits(), config.signalRefresh());
        this.listener = listener;
        this.session = new BackfillSession(db, resolved);
    }

    public String workerId() {
        return config.workerId();
    }

    /** Why this worker waits right now ("none" when it does not). */
    public String throttleReason() {
        ChunkCopier c = copier;
        return c == null ? "none" : c.throttleReason();
    }

    @Override
    public void run() {
        BloatGuard bloat = resolved.spec().mode() == Mode.IN_PLACE
                ? new BloatGuard(store, resolved, config.workerId())
                : null;
        SinkApplier sink = resolved.spec().mode() == Mode.SINK
                ? SinkApplier.forMigration(resolved, SinkApplier.Listener.NONE, () -> stopping) : null;
        copier = new ChunkCopier(store, resolved, signals, config.limits(), bloat, listener, sink);
        String topic = Topics.chunks(migration);
        consumer = new KafkaConsumer<>(properties());
        log.info("backfill worker started migration={} worker={} topic={}", migration, config.workerId(), topic);
        try {
            consumer.subscribe(List.of(topic), new Rebalance());
            while (!stopping) {
                ConsumerRecords<String, String> records;
                try {
                    records = consumer.poll(Duration.ofMillis(500));
                } catch (WakeupException e) {
                    continue;
                }
                for (ConsumerRecord<String, String> rec : records) {
                    if (stopping) {
                        consumer.seek(new TopicPartition(rec.topic(), rec.partition()), rec.offset());
                        break;
                    }
                    handle(rec);
                }
            }
        } finally {
            session.close();
            signals.close();
            if (sink != null) {
                sink.close();
            }
            try {
                consumer.close();
            } catch (KafkaException e) {
                log.debug("closing consumer failed worker={} error={}", config.workerId(), e.toString());
            }
            log.info("backfill worker stopped migration={} worker={}", migration, config.workerId());
        }
    }

    /** Asks the worker to stop after the current sub-batch; the chunk's lease is given back. */
    @Override
    public void close() {
        stopping = true;
        KafkaConsumer<String, String> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    private void handle(ConsumerRecord<String, String> rec) {
        TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
        Optional<ChunkTask> task = ChunkTask.parse(rec.value()).filter(t -> t.migration().equals(migration));
        if (task.isEmpty()) {
            log.warn("skipping a record that is not a chunk task of this migration migration={} partition={} offset={}",
                    migration, rec.partition(), rec.offset());
            commit(tp, rec.offset() + 1);
            return;
        }
        busy = true;
        consumer.pause(consumer.assignment());
        try {
            Next next = process(task.get().chunk(), tp);
            if (next == Next.COMMIT) {
                commit(tp, rec.offset() + 1);
            } else if (owned.contains(tp)) {
                consumer.seek(tp, rec.offset());
            }
        } finally {
            busy = false;
            consumer.resume(consumer.paused());
        }
    }

    private Next process(int chunk, TopicPartition tp) {
        Acquired acquired = store.acquire(migration, chunk, config.workerId(), config.leaseTimeout());
        while (acquired instanceof Acquired.Held held) {
            log.info("chunk held by another worker, waiting for its lease migration={} chunk={} owner={} heartbeat_age_ms={}",
                    migration, chunk, held.owner(), held.heartbeatAge().toMillis());
            if (!pauseKeepingAlive(Duration.ofSeconds(1), tp)) {
                return Next.REDELIVER;
            }
            acquired = store.acquire(migration, chunk, config.workerId(), config.leaseTimeout());
        }
        if (acquired instanceof Acquired.AlreadyDone) {
            log.debug("chunk already done migration={} chunk={}", migration, chunk);
            return Next.COMMIT;
        }
        Lease lease = ((Acquired.Taken) acquired).lease();
        log.debug("chunk taken migration={} chunk={} worker={} epoch={} attempt={}", migration, chunk,
                config.workerId(), lease.epoch(), lease.attempts());
        try {
            Outcome outcome = copier.copy(session.withOrigin(), lease, new ChunkCopier.Host() {
                @Override
                public boolean keepGoing() {
                    return !stopping && owned.contains(tp);
                }

                @Override
                public void idle() {
                    keepAlive();
                }
            });
            return switch (outcome) {
                case DONE -> {
                    log.info("chunk done migration={} chunk={} worker={} attempt={}", migration, chunk,
                            config.workerId(), lease.attempts());
                    yield Next.COMMIT;
                }
                case LOST_LEASE -> Next.REDELIVER;
                case STOPPED -> {
                    store.release(lease);
                    log.info("chunk released migration={} chunk={} worker={} reason={}", migration, chunk,
                            config.workerId(), stopping ? "stopping" : "partition revoked");
                    yield Next.REDELIVER;
                }
            };
        } catch (ShapeshiftException e) {
            session.close();
            if (e.retryable()) {
                log.warn("chunk interrupted by a retryable failure, will retry migration={} chunk={} code={} error={}",
                        migration, chunk, e.code(), e.getMessage());
                releaseQuietly(lease);
                pauseKeepingAlive(Duration.ofSeconds(1), tp);
                return Next.REDELIVER;
            }
            log.error("chunk failed migration={} chunk={} code={} error={}", migration, chunk, e.code(), e.getMessage());
            store.fail(lease, e.getMessage());
            return Next.COMMIT;
        }
    }

    /** Between sub-batches and while waiting: poll with every partition paused, so the group keeps us. */
    private void keepAlive() {
        try {
            ConsumerRecords<String, String> unexpected = consumer.poll(Duration.ZERO);
            for (ConsumerRecord<String, String> rec : unexpected) {
                // A partition assigned mid-chunk delivered a record: hand it back for later.
                TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
                consumer.seek(tp, rec.offset());
                consumer.pause(List.of(tp));
            }
        } catch (WakeupException e) {
            // close() was called; the copier sees stopping and ends after this sub-batch
        }
    }

    private boolean pauseKeepingAlive(Duration d, TopicPartition tp) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            if (stopping || !owned.contains(tp)) {
                return false;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopping = true;
                return false;
            }
            keepAlive();
        }
        return !stopping && owned.contains(tp);
    }

    private void commit(TopicPartition tp, long nextOffset) {
        try {
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(nextOffset)));
        } catch (KafkaException e) {
            // The partition moved: its next owner redelivers the task and finds the chunk done.
            log.warn("offset commit failed migration={} partition={} offset={} error={}", migration,
                    tp.partition(), nextOffset, e.toString());
        }
    }

    private void releaseQuietly(Lease lease) {
        try {
            store.release(lease);
        } catch (ShapeshiftException e) {
            log.debug("could not release lease migration={} chunk={} error={}", migration, lease.chunk(), e.getMessage());
        }
    }

    private Properties properties() {
        Properties p = KafkaClientSettings.apply(new Properties());
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, Topics.group(migration, "backfill"));
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "shapeshift-backfill-" + config.workerId());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) config.sessionTimeout().toMillis());
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) config.sessionTimeout().toMillis() / 3);
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return p;
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            owned.removeAll(partitions);
            log.debug("partitions revoked worker={} partitions={}", config.workerId(), partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            owned.removeAll(partitions);
            log.info("partitions lost worker={} partitions={}", config.workerId(), partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            owned.addAll(partitions);
            if (busy) {
                consumer.pause(partitions);
            }
            log.debug("partitions assigned worker={} partitions={}", config.workerId(), partitions);
        }
    }
}
