package dev.shapeshift.bridge.publish;

import dev.shapeshift.bridge.capture.SyncTarget;
import dev.shapeshift.bridge.capture.TableId;
import dev.shapeshift.change.ChangeCodec;
import dev.shapeshift.change.ChangeEvent;
import dev.shapeshift.kafka.KafkaClientSettings;
import dev.shapeshift.kafka.Topics;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium's batch consumer: turns each row change into one {@link ChangeEvent} per migration on
 * that table, drops echoes, sends them with an idempotent {@code acks=all} producer, waits for
 * every acknowledgement, and only then marks the batch processed. So an offset is stored only for
 * records Kafka has: at-least-once, and per key in order (one partition per key, one producer).
 */
public final class ChangePublisher implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {
    private static final Logger log = LoggerFactory.getLogger(ChangePublisher.class);

    /** What the publisher needs from the bridge around it. */
    public record Counters(Counter published, Counter suppressed, Counter heartbeats) {
    }

    private final KafkaProducer<byte[], byte[]> producer;
    private final EchoFilter echoes = new EchoFilter(100_000);
    private final Counters counters;
    private final TableId heartbeatTable;
    private final Consumer<TableId> schemaChanged;
    private final Map<TableId, Schema> lastSchema = new HashMap<>();
    private volatile Map<TableId, List<SyncTarget>> routes;
    /** {@link System#nanoTime} when the batch in hand started, 0 while none is (the Kafka watch reads it). */
    private volatile long batchSince;

    /**
     * @param schemaChanged called, before anything more of that table is published, when the row
     *                      schema Debezium reports for a table changes; it may {@link #unroute} migrations
     */
    public ChangePublisher(String bootstrapServers, String clientId, Map<TableId, List<SyncTarget>> routes,
                           TableId heartbeatTable, Counters counters, Consumer<TableId> schemaChanged) {
        this.producer = new KafkaProducer<>(producerConfig(bootstrapServers, clientId));
        this.routes = Map.copyOf(routes);
        this.heartbeatTable = heartbeatTable;
        this.counters = counters;
        this.schemaChanged = schemaChanged;
    }

    static Properties producerConfig(String bootstrapServers, String clientId) {
        Properties p = KafkaClientSettings.apply(new Properties());
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    /** Stops publishing for a migration (its source changed); effective for the next record. */
    public synchronized void unroute(String migration) {
        Map<TableId, List<SyncTarget>> next = new HashMap<>();
        routes.forEach((table, targets) -> {
            List<SyncTarget> kept = targets.stream().filter(t -> !t.migration().equals(migration)).toList();
            if (!kept.isEmpty()) {
                next.put(table, kept);
            }
        });
        routes = Map.copyOf(next);
    }

    @Override
    public void handleBatch(List<RecordChangeEvent<SourceRecord>> records,
                            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        batchSince = System.nanoTime();
        try {
            publish(records, committer);
        } finally {
            batchSince = 0;
        }
    }

    /**
     * How long the batch in hand has waited for Kafka (sends, metadata, acknowledgements); zero
     * while no batch is in hand. A healthy batch takes milliseconds; a partitioned or stalled
     * Kafka holds it until the producer's delivery timeout fails it (then Debezium replays it).
     */
    public Duration unacknowledgedFor() {
        long since = batchSince;
        return since == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - since);
    }

    private void publish(List<RecordChangeEvent<SourceRecord>> records,
                         DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        List<Future<RecordMetadata>> sends = new ArrayList<>();
        int published = 0;
        int suppressed = 0;
        int heartbeats = 0;
        for (RecordChangeEvent<SourceRecord> event : records) {
            SourceRecord r = event.record();
            switch (RecordReader.kind(r)) {
                case ECHO_MARK -> {
                    Long tx = RecordReader.txId(r);
                    if (tx != null) {
                        echoes.markEcho(tx, RecordReader.echoMigration(r));
                    }
                }
                case ROW_CHANGE -> {
                    TableId table = RecordReader.table(r);
                    if (table.equals(heartbeatTable)) {
                        heartbeats += heartbeat(r, sends);
                        break;
                    }
                    watchSchema(table, (Struct) r.value());
                    List<SyncTarget> targets = routes.getOrDefault(table, List.of());
                    if (targets.isEmpty()) {
                        break;
                    }
                    Long tx = RecordReader.txId(r);
                    if (echoes.isEcho(tx)) {
                        // An echo only for the migration whose worker wrote it: others on the table still need it.
                        List<SyncTarget> others = targets.stream().filter(t -> !echoes.isEcho(tx, t.migration())).toList();
                        suppressed += targets.size() - others.size();
                        targets = others;
                        if (targets.isEmpty()) {
                            break;
                        }
                    }
                    SourceChange change = RecordReader.change(r, table, targets.get(0).keyColumns());
                    for (SyncTarget t : targets) {
                        SourceChange own = t.keyColumns().equals(targets.get(0).keyColumns()) ? change
                                : RecordReader.change(r, table, t.keyColumns());
                        boolean tableOld = oldShape(t);
                        boolean inPlaceOld = !tableOld && writesOldColumns(t, r, table);
                        for (SourceChange.KeyOp k : own.keys()) {
                            ChangeEvent e = new ChangeEvent(t.migration(), k.key(), k.op(), own.lsn(),
                                    own.commitTsMicros(), own.txId() == null ? 0L : own.txId(),
                                    tableOld || (inPlaceOld && k.op() != 'd'));
                            sends.add(producer.send(new ProducerRecord<>(Topics.changes(t.migration()),
                                    ChangeCodec.encodeKey(k.key()), ChangeCodec.encodeValue(e))));
                            published++;
                        }
                    }
                }
                default -> {
                }
            }
        }
        awaitAcks(sends);
        for (RecordChangeEvent<SourceRecord> event : records) {
            committer.markProcessed(event);
        }
        committer.markBatchFinished();
        counters.published().increment(published);
        counters.suppressed().increment(suppressed);
        counters.heartbeats().increment(heartbeats);
        if (log.isDebugEnabled()) {
            log.debug("batch acknowledged records={} published={} suppressed={}", records.size(), published, suppressed);
        }
    }

    /**
     * Whether a change of this target's table is a change of the old shape as a table of its own: the
     * source table of a migration that also captures its new table (table mode with a write switch).
     */
    private boolean oldShape(SyncTarget t) {
        if (t.newShape()) {
            return false;
        }
        for (List<SyncTarget> targets : routes.values()) {
            for (SyncTarget other : targets) {
                if (other.newShape() && other.migration().equals(t.migration())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Tables whose UPDATEs came without a before image while a migration wanted one (logged once each). */
    private final java.util.Set<TableId> blind = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * In place with a write switch: whether a change (not the workers' own: those never get here)
     * writes the old columns ({@link RecordReader#writesOldColumns}). Marked on every such change; the
     * workers record it only while the sync runs reverse and the change committed after the flip, so
     * the application's old-shape writes before the write switch are never counted. An UPDATE
     * without a before image (replica identity not FULL, as before the write switch) cannot tell:
     * logged once per table at debug; the coordinator's check says so from the table's replica identity.
     */
    private boolean writesOldColumns(SyncTarget t, SourceRecord r, TableId table) {
        if (t.oldColumns().isEmpty()) {
            return false;
        }
        Boolean writes = RecordReader.writesOldColumns(r, t.oldColumns(), t.oldColumnsWithDefault());
        if (writes == null) {
            if (blind.add(table)) {
                log.debug("an UPDATE of {} came without a before image of the old columns {} (its replica identity is "
                        + "not FULL): old-shape writes after the write switch cannot be told from the change stream "
                        + "migration={}", table, t.oldColumns(), t.migration());
            }
            return false;
        }
        return writes;
    }

    private void watchSchema(TableId table, Struct value) {
        Struct row = value.getStruct("after") != null ? value.getStruct("after") : value.getStruct("before");
        if (row == null) {
            return;
        }
        Schema previous = lastSchema.put(table, row.schema());
        if (previous != null && !previous.equals(row.schema())) {
            log.info("row schema changed in the change stream table={}", table);
            schemaChanged.accept(table);
        }
    }

    /** A heartbeat row change: one keyless 'h' event to every partition of every captured topic. */
    private int heartbeat(SourceRecord r, List<Future<RecordMetadata>> sends) {
        Struct source = ((Struct) r.value()).getStruct("source");
        long lsn = source.getInt64("lsn") == null ? 0L : source.getInt64("lsn");
        long ts = RecordReader.commitMicros(source);
        int n = 0;
        java.util.Set<String> done = new java.util.HashSet<>();
        for (List<SyncTarget> targets : routes.values()) {
            for (SyncTarget t : targets) {
                if (!done.add(t.migration())) {
                    continue; // a migration with its target table captured too gets one heartbeat
                }
                String topic = Topics.changes(t.migration());
                byte[] value = ChangeCodec.encodeValue(new ChangeEvent(t.migration(), null, 'h', lsn, ts, 0L));
                int partitions = producer.partitionsFor(topic).size();
                for (int p = 0; p < partitions; p++) {
                    sends.add(producer.send(new ProducerRecord<>(topic, p, null, value)));
                    n++;
                }
            }
        }
        return n;
    }

    private static void awaitAcks(List<Future<RecordMetadata>> sends) throws InterruptedException {
        for (Future<RecordMetadata> f : sends) {
            try {
                f.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("Kafka did not acknowledge a change event; the batch will be "
                        + "replayed from the last stored offset: " + e.getCause(), e.getCause());
            }
        }
    }

    /** Closes the producer after sending what it has (a clean stop). */
    public void close() {
        producer.close(Duration.ofSeconds(30));
    }

    /** Closes the producer at once, dropping unsent records: what a crash does (tests). */
    public void abort() {
        producer.close(Duration.ZERO);
    }
}
