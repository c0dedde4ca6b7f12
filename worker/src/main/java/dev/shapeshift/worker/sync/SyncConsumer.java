package dev.shapeshift.worker.sync;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.OwnQueries;
import dev.shapeshift.catalog.StreamState;
import dev.shapeshift.catalog.SyncStreamStore;
import dev.shapeshift.change.ChangeCodec;
import dev.shapeshift.change.ChangeEvent;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.kafka.KafkaClientSettings;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.Refresher;
import dev.shapeshift.refresh.VisibilityBarrier;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.sinks.SinkApplier;
import dev.shapeshift.sinks.SinkRefresh;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one migration's new shape in sync: consumes the migration's change events, refreshes the
 * keys of each poll (de-duplicated) in worker transactions, and commits the Kafka offsets only
 * after the database committed. Delivery is at least once; refresh makes duplicates, replays and
 * reordering harmless.
 *
 * <p>It never skips a change on its own. An undecodable record, or one whose key value PostgreSQL's
 * cast refuses ({@link KeyValues}, {@link SliceRefresher}), stops the migration's sync at that
 * record ({@link SyncState#STOPPED_POISON}) until an operator skips it ({@link SyncSkip}: setting
 * {@code sync-skip} = {@code partition:offset}, audited). A refresh that fails for a non-transient
 * reason (a transform raising an error on some row) stops it ({@link SyncState#STOPPED_ERROR}) and
 * is retried with back-off, so it resumes by itself once the data or the spec is fixed. While
 * stopped, the consumer keeps polling with its partitions paused, so it stays in the group and
 * never takes new work; anything a rebalance hands it meanwhile is rewound, never dropped.
 *
 * <p>Why one class of ~540 lines: the poll loop, the batch's apply-and-commit, its waits (visibility,
 * a degraded sink, back-off) and the state it reports are one state machine over one Kafka consumer
 * and one session, and each step's correctness (commit only after the database did; pause, never
 * drop) depends on the others. What stands apart lives apart: {@link SyncConfig}, {@link PoisonStops},
 * {@link PausedPolls}, {@link SyncConnection}, {@link SyncStreams} and the refresh itself.
 */
public final class SyncConsumer implements Runnable, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SyncConsumer.class);
    public static final String SKIP_SETTING = "sync-skip";
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** Progress of a partition reaches {@code shapeshift.sync_stream} at most this often (state changes at once). */
    static final Duration STREAM_WRITE_EVERY = Duration.ofSeconds(1);

    private final SyncConfig config;
    private final Database db;
    private final Catalog catalog;
    private final ResolvedSpec resolved;
    private final String migration;
    private final SliceApplier slices;
    private final SyncMetrics metrics;
    private final SyncStreams streams;
    private final PoisonStops poisons;
    private final AtomicReference<SyncState> state = new AtomicReference<>(SyncState.STARTING);
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean closing;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private volatile String stopReason;
    private final SyncConnection conn;
    private String lastPoisonReason;

    public SyncConsumer(SyncConfig config, Database db, Catalog catalog, ResolvedSpec resolved, SyncMetrics metrics) {
        this.config = config;
        this.db = db;
        this.catalog = catalog;
        this.resolved = resolved;
        this.migration = resolved.spec().name();
        WorkerTransactions transactions = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);
        this.slices = resolved.spec().mode() == Mode.SINK
                ? new SinkSlices(new SinkRefresh(resolved), SinkApplier.forMigration(resolved, metrics.sinkListener(),
                        () -> closing), transactions, new OwnQueries(resolved.spec().name()))
                : new SliceRefresher(new Refresher(resolved), transactions, resolved.key(),
                        WorkerTransactions.echoMark(resolved));
        this.metrics = metrics;
        this.conn = new SyncConnection(db, config.idleInTransaction(), migration,
                resolved.spec().mode() != Mode.SINK && WorkerTransactions.echoMark(resolved) != null);
        this.poisons = new PoisonStops(migration, config.workerId(), catalog);
        this.streams = new SyncStreams(new SyncStreamStore(catalog), migration, config.workerId(), STREAM_WRITE_EVERY);
    }

    public String migration() {
        return migration;
    }

    public SyncState state() {
        return state.get();
    }

    /** Why the consumer stopped, or null while it runs. */
    public String stopReason() {
        return stopReason;
    }

    /** Change events waiting in Kafka for this consumer's partitions (the backfill yields while this grows). */
    public long backlog() {
        return metrics.backlog();
    }

    @Override
    public void run() {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProperties())) {
            consumer = c;
            c.subscribe(List.of(Topics.changes(migration)), rebalanceListener(c));
            move(SyncState.RUNNING);
            log.info("sync started migration={} worker={} mode={}", migration, config.workerId(),
                    resolved.spec().mode().label());
            while (!closing) {
                streams.flush();
                if (state.get() == SyncState.STOPPED_POISON) {
                    PausedPolls.poll(c, config.pollTimeout().multipliedBy(4), metrics::observeLag);
                    checkSkip(c);
                    continue;
                }
                ConsumerRecords<byte[], byte[]> records = c.poll(config.pollTimeout());
                metrics.observeLag(c);
                if (!records.isEmpty()) {
                    handle(c, records);
                }
            }
        } catch (WakeupException e) {
            if (!closing) {
                throw e;
            }
        } finally {
            conn.close();
            slices.close();
            state.set(SyncState.CLOSED);
            metrics.state(SyncState.CLOSED);
            finished.countDown();
            log.info("sync closed migration={} worker={}", migration, config.workerId());
        }
    }

    private void handle(KafkaConsumer<byte[], byte[]> c, ConsumerRecords<byte[], byte[]> records) {
        SyncBatch batch = new SyncBatch();
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        Map<TopicPartition, List<Poison.KeyAt>> keysAt = new LinkedHashMap<>(); // to find the record of a bad key
        Poison poison = null;
        StreamProgress progress = new StreamProgress();
        for (TopicPartition tp : records.partitions()) {
            for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
                Optional<ChangeEvent> event = decode(r);
                if (event.isEmpty()) {
                    poison = new Poison(tp, r.offset(), "an undecodable change record", lastPoisonReason);
                    break;
                }
                batch.add(event.get());
                progress.add(tp, r.offset(), event.get());
                if (!event.get().heartbeat()) {
                    keysAt.computeIfAbsent(tp, k -> new ArrayList<>()).add(new Poison.KeyAt(r.offset(), event.get().key()));
                }
                commit.put(tp, new OffsetAndMetadata(r.offset() + 1));
            }
            if (poison != null) {
                break; // the partitions not looked at yet are rewound below, not skipped
            }
        }
        if (poison != null) {
            for (TopicPartition tp : records.partitions()) {
                if (!commit.containsKey(tp) && !tp.equals(poison.partition())) {
                    c.seek(tp, records.records(tp).get(0).offset());
                }
            }
        }
        Optional<Map<Key, String>> badKeys = applyUntilDone(c, batch);
        if (badKeys.isEmpty()) {
            return; // closing: nothing committed, the next owner re-applies
        }
        // Per partition, the earliest record sync cannot apply: its offset is committed (everything
        // before it was applied), nothing after it. A bad key's record in the undecodable record's
        // partition is always earlier (nothing after an undecodable record is in the batch).
        Map<TopicPartition, Poison> stops = new LinkedHashMap<>();
        if (poison != null) {
            stops.put(poison.partition(), poison);
        }
        for (Poison p : Poison.badKeyRecords(keysAt, badKeys.get(), slices instanceof SinkSlices
                ? "a change record whose row the sink refused" : "a change record whose row PostgreSQL refused")) {
            metrics.poison();
            stops.merge(p.partition(), p, (x, y) -> x.offset() <= y.offset() ? x : y);
        }
        Poison first = stops.values().stream().findFirst().orElse(null);
        for (Poison stop : stops.values()) {
            commit.put(stop.partition(), new OffsetAndMetadata(stop.offset()));
            if (stop != first) {
                c.seek(stop.partition(), stop.offset()); // met, and stopped at, again once the first stop is over
            }
        }
        commitQuietly(c, commit);
        streams.applied(progress.upTo(commit));
        if (first != null) {
            stopAtPoison(c, first);
        }
    }

    private Optional<ChangeEvent> decode(ConsumerRecord<byte[], byte[]> r) {
        try {
            ChangeEvent e = ChangeCodec.decode(r.value());
            if (!migration.equals(e.migration())) {
                throw new ShapeshiftException(ErrorCode.POISON_RECORD,
                        "record belongs to migration '" + e.migration() + "', not " + migration);
            }
            if (!e.heartbeat() && e.key().size() != resolved.key().size()) {
                throw new ShapeshiftException(ErrorCode.POISON_RECORD, "record key has " + e.key().size()
                        + " values, the migration's key has " + resolved.key().size() + " columns");
            }
            Optional<String> badKey = e.heartbeat() ? Optional.empty() : KeyValues.problem(resolved.key(), e.key());
            if (badKey.isPresent()) {
                throw new ShapeshiftException(ErrorCode.POISON_RECORD, badKey.get()); // the words the refresh path uses
            }
            return Optional.of(e);
        } catch (ShapeshiftException e) {
            lastPoisonReason = e.getMessage();
            metrics.poison();
            return Optional.empty();
        }
    }

    /**
     * Refreshes the batch. Transient failures are retried by {@link WorkerTransactions}; a lost
     * connection is reopened; a refresh error moves to STOPPED_ERROR and is retried with back-off
     * (while the consumer keeps polling, paused) until it passes. Keys PostgreSQL cannot read (see
     * {@link SliceRefresher}) are left out and returned with why; every other key of the batch was
     * applied. Returns empty only when closing.
     */
    private Optional<Map<Key, String>> applyUntilDone(KafkaConsumer<byte[], byte[]> c, SyncBatch batch) {
        if (batch.keys().isEmpty()) {
            metrics.applied(batch, 0);
            return Optional.of(Map.of());
        }
        Duration backoff = Duration.ofMillis(200);
        boolean held = false;
        while (!closing) {
            try {
                long started = System.nanoTime();
                long written = 0;
                Map<Key, String> badKeys = new LinkedHashMap<>();
                Connection tx = conn.get();
                Visibility visibility = awaitVisible(c, tx, batch);
                if (visibility == Visibility.CLOSING) {
                    return Optional.empty(); // closing while waiting: nothing applied, nothing committed
                }
                held |= visibility == Visibility.AFTER_HOLDING;
                for (List<Key> slice : batch.slices(config.keysPerStatement())) {
                    SliceRefresher.Outcome outcome = slices.refresh(tx, slice, batch.oldShape());
                    written += outcome.written();
                    badKeys.putAll(outcome.badKeys());
                    metrics.writeSwitch(outcome.reversed(), outcome.mismatches());
                    if (outcome.mismatches() > 0) {
                        log.warn("dual-write mismatch: the application's new shape differed from transform(old) "
                                + "migration={} keys={} (recorded in shapeshift.write_mismatch, then corrected)",
                                migration, outcome.mismatches());
                    }
                    if (outcome.oldShapeWrites() > 0) {
                        log.warn("old-shape write after the write switch: an application changed the old table "
                                + "migration={} keys={} (recorded in shapeshift.old_shape_change; the reverse sync "
                                + "overwrote them with reverse(new))", migration, outcome.oldShapeWrites());
                    }
                }
                metrics.applied(batch, written);
                metrics.applyTime(Duration.ofNanos(System.nanoTime() - started));
                if (held) {
                    c.resume(c.assignment());
                }
                if (state.get() == SyncState.DEGRADED) {
                    stopReason = null;
                    catalog.setMessage(migration, "sync resumed: the sink answers again");
                    move(SyncState.RUNNING);
                    log.info("sync resumed, sink back migration={} worker={}", migration, config.workerId());
                }
                if (state.get() == SyncState.STOPPED_ERROR) {
                    stopReason = null;
                    catalog.setMessage(migration, "sync resumed after a refresh error");
                    move(SyncState.RUNNING);
                    log.info("sync resumed migration={} worker={}", migration, config.workerId());
                }
                return Optional.of(badKeys);
            } catch (SinkApplier.Closing e) {
                return Optional.empty(); // closing while the sink retried: nothing applied, nothing committed
            } catch (ShapeshiftException e) {
                if (e.code() == ErrorCode.SINK_UNAVAILABLE && slices instanceof SinkSlices s) {
                    sinkDegraded(e, batch);
                    PausedPolls.holdFor(c, s.sink().policy().maxBackoff(), () -> closing, metrics::observeLag);
                    held = true;
                    continue;
                }
                boolean lostConnection = conn.dropIfBroken();
                if (!e.retryable() && !lostConnection && state.get() != SyncState.STOPPED_ERROR) {
                    stopReason = "sync stopped: refreshing " + batch.keys().size() + " keys failed: " + e.getMessage()
                            + ". Nothing was skipped; retrying with back-off until the row or the transform is fixed.";
                    catalog.setMessage(migration, stopReason); // before the state: whoever sees the state finds the message
                    move(SyncState.STOPPED_ERROR);
                    metrics.refreshError();
                    log.error("sync stopped migration={} worker={} keys={} code={} error={}", migration,
                            config.workerId(), batch.keys().size(), e.code(), e.getMessage());
                } else {
                    log.warn("sync refresh failed, retrying migration={} code={} reconnect={} backoff_ms={}",
                            migration, e.code(), lostConnection, backoff.toMillis());
                }
                PausedPolls.holdFor(c, backoff, () -> closing, metrics::observeLag);
                held = true;
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        }
        return Optional.empty();
    }

    /**
     * The sink failed past its retry policy: the stream is DEGRADED with the sink's last error as
     * the reason (catalog message, {@code shapeshift.sync_stream}, the state gauge); the batch is
     * neither applied nor committed and is retried every {@code maxBackoff} until the sink answers.
     */
    private void sinkDegraded(ShapeshiftException e, SyncBatch batch) {
        String reason = "sync degraded: " + e.getMessage() + ". " + batch.keys().size()
                + " keys wait; nothing was skipped or committed past them; retrying until the sink answers.";
        if (state.get() != SyncState.DEGRADED || !reason.equals(stopReason)) {
            stopReason = reason;
            catalog.setMessage(migration, reason);
            if (state.get() == SyncState.DEGRADED) {
                recordState(SyncState.DEGRADED);
            } else {
                move(SyncState.DEGRADED);
            }
            log.warn("sync degraded migration={} worker={} keys={} error={}", migration, config.workerId(),
                    batch.keys().size(), e.getMessage());
        }
    }

    /** How {@link #awaitVisible} ended: at once, after holding the partitions paused, or closing. */
    private enum Visibility { AT_ONCE, AFTER_HOLDING, CLOSING }

    /**
     * Returns once every source transaction of the batch is visible to a new snapshot
     * ({@link VisibilityBarrier}), or when the consumer closes. Normally that is the first
     * check; while a commit waits (e.g. for a synchronous standby) the consumer stays in its group
     * with its partitions paused, and after a second says why it waits in the migration's message.
     */
    private Visibility awaitVisible(KafkaConsumer<byte[], byte[]> c, Connection tx, SyncBatch batch) {
        if (!config.visibilityBarrier()) {
            return Visibility.AT_ONCE;
        }
        List<Long> waiting = VisibilityBarrier.invisible(tx, batch.txIds());
        if (waiting.isEmpty()) {
            return Visibility.AT_ONCE;
        }
        metrics.visibilityWait();
        long started = System.nanoTime();
        long pauseMs = 1;
        boolean reported = false;
        while (!waiting.isEmpty()) {
            if (closing) {
                return Visibility.CLOSING;
            }
            if (!reported && System.nanoTime() - started > VISIBILITY_REPORT_AFTER.toNanos()) {
                reported = true;
                String why = "sync waiting: source transaction(s) " + waiting + " committed (their changes were "
                        + "decoded) but are not visible to other sessions yet; a commit waiting for a synchronous "
                        + "standby (synchronous_standby_names) does this. Nothing is applied or skipped until they are.";
                catalog.setMessage(migration, why);
                log.warn("sync waiting for source transactions to become visible migration={} worker={} txids={}",
                        migration, config.workerId(), waiting);
            }
            PausedPolls.holdFor(c, Duration.ofMillis(pauseMs), () -> closing, metrics::observeLag);
            pauseMs = Math.min(100, pauseMs * 2);
            waiting = VisibilityBarrier.invisible(tx, waiting);
        }
        metrics.visibilityWaited(Duration.ofNanos(System.nanoTime() - started));
        if (reported) {
            catalog.setMessage(migration, "sync resumed: the source transactions it waited for became visible");
            log.info("sync resumed after visibility wait migration={} worker={}", migration, config.workerId());
        }
        return Visibility.AFTER_HOLDING;
    }

    private static final Duration VISIBILITY_REPORT_AFTER = Duration.ofSeconds(1);

    private void stopAtPoison(KafkaConsumer<byte[], byte[]> c, Poison poison) {
        stopReason = poisons.stop(c, poison);
        catalog.setMessage(migration, stopReason); // before the state: whoever sees the state finds the message
        move(SyncState.STOPPED_POISON);
        log.error("sync stopped at poison record migration={} worker={} position={} reason={}", migration,
                config.workerId(), poison.position(), poison.reason());
    }

    private void checkSkip(KafkaConsumer<byte[], byte[]> c) {
        String resumed = poisons.checkSkip(c, this::commitQuietly);
        if (resumed != null) {
            resumeAfterPoison(c, resumed);
        }
    }

    private void resumeAfterPoison(KafkaConsumer<byte[], byte[]> c, String message) {
        poisons.clear(c);
        stopReason = null;
        catalog.setMessage(migration, message);
        move(SyncState.RUNNING);
    }

    private void commitQuietly(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        try {
            c.commitSync(offsets);
        } catch (CommitFailedException | RebalanceInProgressException e) {
            // We lost the partitions while applying (e.g. paused past the session timeout); the new
            // owner re-applies from the last committed offset. Harmless: refresh is idempotent.
            log.info("offset commit lost to a rebalance migration={} worker={} partitions={}", migration,
                    config.workerId(), offsets.keySet());
        }
    }

    private void move(SyncState to) {
        SyncState from = state.getAndSet(to);
        if (from != to) {
            log.info("sync state migration={} worker={} from={} to={}", migration, config.workerId(), from, to);
            metrics.state(to);
            recordState(to);
        }
    }

    /** The durable side of a state change ({@code shapeshift.sync_stream}), for the gates and status. */
    private void recordState(SyncState to) {
        KafkaConsumer<byte[], byte[]> c = consumer;
        Poison p = poisons.current();
        switch (to) {
            case RUNNING -> streams.state(c == null ? List.of() : c.assignment(), StreamState.RUNNING, null, null);
            case DEGRADED -> streams.state(c == null ? List.of() : c.assignment(), StreamState.DEGRADED, null, stopReason);
            case STOPPED_ERROR -> streams.state(c == null ? List.of() : c.assignment(), StreamState.STOPPED_ERROR,
                    null, stopReason);
            case STOPPED_POISON -> {
                if (p != null) {
                    streams.state(List.of(p.partition()), StreamState.STOPPED_POISON, p.offset(), stopReason);
                }
            }
            default -> {
            }
        }
    }

    /** Claims assigned partitions in {@code shapeshift.sync_stream}; writes the last progress of revoked ones. */
    private ConsumerRebalanceListener rebalanceListener(KafkaConsumer<byte[], byte[]> c) {
        return new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                streams.revoked(partitions);
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                if (partitions.isEmpty()) {
                    return;
                }
                int count;
                try {
                    count = c.partitionsFor(Topics.changes(migration)).size();
                } catch (KafkaException e) { // metadata not at hand: the highest assigned partition is a lower bound
                    count = partitions.stream().mapToInt(TopicPartition::partition).max().orElse(0) + 1;
                }
                SyncState now = state.get();
                streams.claimed(partitions, count, now.stopped() ? "held by this worker's stopped sync: " + stopReason : null);
                Poison p = poisons.current();
                if (now == SyncState.STOPPED_POISON && p != null && partitions.contains(p.partition())) {
                    streams.state(List.of(p.partition()), StreamState.STOPPED_POISON, p.offset(), stopReason);
                }
                if (now == SyncState.STOPPED_ERROR) {
                    // A rebalance (another worker joining) while this worker's sync is stopped: the claim above
                    // wrote CATCHING_UP, which would hide the stop from the gates and the status (the driver
                    // rewrites the migration's message on its next tick). Found by ScenariosIT's division-error
                    // case when a second worker joined just after the first one stopped.
                    streams.state(partitions, StreamState.STOPPED_ERROR, null, stopReason);
                }
            }
        };
    }

    private Properties consumerProperties() {
        Properties p = KafkaClientSettings.apply(new Properties());
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, Topics.group(migration, "sync"));
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "shapeshift-sync-" + migration + "-" + config.workerId());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.maxPollRecords());
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) config.sessionTimeout().toMillis());
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) config.sessionTimeout().toMillis() / 3);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return p;
    }

    /** Stops consuming; waits (up to 30s) for the current batch to commit or roll back. */
    @Override
    public void close() {
        closing = true;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            try {
                c.wakeup();
            } catch (KafkaException e) {
                log.debug("wakeup failed migration={} error={}", migration, e.toString());
            }
        }
        if (state.get() == SyncState.STARTING && c == null) {
            return; // never ran
        }
        try {
            if (!finished.await(30, TimeUnit.SECONDS)) {
                log.warn("sync did not stop within 30s migration={} worker={}", migration, config.workerId());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
