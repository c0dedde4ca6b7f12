package dev.shapeshift.bridge;

import dev.shapeshift.bridge.capture.CaptureEngine;
import dev.shapeshift.bridge.capture.OriginFilter;
import dev.shapeshift.bridge.capture.CaptureSet;
import dev.shapeshift.bridge.capture.Publication;
import dev.shapeshift.bridge.capture.SchemaWatch;
import dev.shapeshift.bridge.capture.SyncTarget;
import dev.shapeshift.bridge.capture.TableId;
import dev.shapeshift.bridge.publish.ChangePublisher;
import dev.shapeshift.bridge.slot.SlotAlarm;
import dev.shapeshift.db.Leadership;
import dev.shapeshift.bridge.slot.SlotGuard;
import dev.shapeshift.bridge.slot.SlotRelease;
import dev.shapeshift.bridge.slot.SlotState;
import dev.shapeshift.bridge.slot.StoredOffsets;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.kafka.Topics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One period of leadership: check the slot against the stored offset, capture the migrations
 * that want sync, then watch (leadership, engine health, catalog, source columns, retained WAL)
 * until stop is requested or the lock is lost.
 *
 * <p>Why one class of ~430 lines: one leadership term is one state machine over one lock session
 * and one capture engine; the watches (lock, engine, catalog, columns, WAL) decide together when
 * the term ends, and the capture and publishing are classes of their own.
 */
final class LeaderTerm implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaderTerm.class);
    private static final String ACTOR = "cdc-bridge";
    /** The audit action of a leader term that takes over a migration already streaming (a failover or restart). */
    public static final String LEADER_TERM_ACTION = "bridge leader term";
    /** Audit actions of the bridge's status (docs/cdc-bridge.md, "Status"). */
    public static final String KAFKA_UNREACHABLE_ACTION = "kafka-unreachable";
    public static final String KAFKA_REACHABLE_ACTION = "kafka-reachable";
    public static final String SLOT_ALARM_ACTION = "slot-alarm";
    public static final String SLOT_ALARM_CLEARED_ACTION = "slot-alarm-cleared";

    /** This process as the audit names it: {@code <host>/<pid>} ({@code HOSTNAME} is the pod name on Kubernetes). */
    static String instance() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                host = "unknown-host";
            }
        }
        return host + "/" + ProcessHandle.current().pid();
    }

    /** The bridge's compare-and-set on its lifecycle. */
    interface Mover {
        boolean move(BridgeState from, BridgeState to);
    }

    private final BridgeConfig config;
    private final BridgeMetrics metrics;
    private final Leadership leadership;
    private final Mover mover;
    private final BooleanSupplier stopRequested;
    private final Consumer<Duration> pause;
    private final Runnable wakeUp;
    private final Catalog catalog;
    private CaptureEngine engine;
    private ChangePublisher publisher;
    private List<SyncTarget> targets = List.of();
    /** Whether this term last moved the bridge to STREAMING (false after a capture failed while starting). */
    private boolean streaming;
    /** The walsender of the running engine (seen when it started streaming), or null. */
    private Integer walsenderPid;
    /** Whether the running engine streams with {@code origin = 'none'} ({@link OriginFilter}). */
    private boolean originNone;
    private boolean alarmed;
    private java.time.Instant kafkaStalledAt;
    private double kafkaAckMark;

    LeaderTerm(BridgeConfig config, BridgeMetrics metrics, Leadership leadership, Mover mover,
               BooleanSupplier stopRequested, Consumer<Duration> pause, Runnable wakeUp) {
        this.config = config;
        this.metrics = metrics;
        this.leadership = leadership;
        this.mover = mover;
        this.stopRequested = stopRequested;
        this.pause = pause;
        this.wakeUp = wakeUp;
        this.catalog = new Catalog(config.database(), ACTOR);
    }

    void lead() {
        try (Connection c = connect()) {
            capture(c);
        } catch (SQLException e) {
            throw new ShapeshiftException(ErrorCode.UNREACHABLE, "bridge start: " + e.getMessage(), e);
        }
        mover.move(BridgeState.STARTING, BridgeState.STREAMING);
        streaming = true;
        while (!stopRequested.getAsBoolean()) {
            pause.accept(config.watchInterval());
            if (stopRequested.getAsBoolean()) {
                return;
            }
            if (!leadership.held()) {
                return;
            }
            watch();
        }
    }

    /** One round of the watch; database and Kafka hiccups are logged and retried next round. */
    private void watch() {
        watchKafka();
        try (Connection c = connect()) {
            if (engine == null || engine.done().isDone()) {
                Throwable why = engine == null ? null : engineFailure();
                if (why instanceof ShapeshiftException se && !se.retryable()) {
                    throw se;
                }
                log.warn("capture engine ended, restarting slot={} error={}", config.slot(), String.valueOf(why));
                restart(c);
                return;
            }
            probeSlot(c);
            List<SyncTarget> now = readTargets(c);
            if (!migrations(now).equals(migrations(targets))) {
                log.info("captured migrations changed slot={} before={} after={}", config.slot(),
                        migrations(targets), migrations(now));
                restart(c);
                return;
            }
            OriginFilter.Decision origin = OriginFilter.decide(config.originFilter(), c, CaptureSet.byTable(now));
            if (origin.on() != originNone) {
                // e.g. a subscription created meanwhile: its writes must be decoded from now on
                log.info("origin filter changes slot={} origin_none={} reason=\"{}\"", config.slot(), origin.on(),
                        origin.reason());
                restart(c);
            }
        } catch (SQLException | RuntimeException e) {
            if (e instanceof ShapeshiftException se && !se.retryable() && se.code() == ErrorCode.SOURCE_CHANGED) {
                throw se;
            }
            log.warn("bridge watch round failed slot={} error={}", config.slot(), e.toString());
        }
    }

    /**
     * Kafka's side of the watch: a batch of change events unacknowledged for longer than
     * {@code kafkaTimeout} (a partition, a half-open connection, a stalled broker) is reported once
     * in every captured migration's status message and audit log and in the gauge; so is the
     * recovery, once Kafka has acknowledged something again. Nothing is lost meanwhile: offsets only
     * move after acknowledgements, so the slot holds the WAL (the retained-WAL alarm watches that).
     */
    private void watchKafka() {
        ChangePublisher p = publisher;
        Duration waiting = p == null ? Duration.ZERO : p.unacknowledgedFor();
        metrics.kafkaUnacknowledgedSeconds.set(waiting.toSeconds());
        double acknowledged = metrics.published.count() + metrics.heartbeats.count();
        if (kafkaStalledAt == null && waiting.compareTo(config.kafkaTimeout()) > 0) {
            kafkaStalledAt = java.time.Instant.now().minus(waiting);
            kafkaAckMark = acknowledged;
            String m = "Kafka unreachable: the bridge's change events have waited " + waiting.toSeconds()
                    + " s for Kafka's acknowledgement (kafkaTimeout " + config.kafkaTimeout().toSeconds() + " s, bootstrap "
                    + config.bootstrapServers() + "); sync lags, nothing is lost: the slot keeps the WAL until Kafka "
                    + "acknowledges";
            log.warn("kafka not acknowledging slot={} waiting_s={} timeout_s={}", config.slot(), waiting.toSeconds(),
                    config.kafkaTimeout().toSeconds());
            status(KAFKA_UNREACHABLE_ACTION, m);
        } else if (kafkaStalledAt != null && acknowledged > kafkaAckMark
                && waiting.compareTo(config.kafkaTimeout()) <= 0) {
            long seconds = Duration.between(kafkaStalledAt, java.time.Instant.now()).toSeconds();
            kafkaStalledAt = null;
            log.info("kafka acknowledging again slot={} unreachable_s={}", config.slot(), seconds);
            status(KAFKA_REACHABLE_ACTION, "Kafka acknowledging the bridge's change events again after about "
                    + seconds + " s; sync catches up from the slot");
        }
    }

    /** A status line for every captured migration (message and audit); a catalog failure is only logged. */
    private void status(String action, String message) {
        for (String m : migrations(targets)) {
            try {
                catalog.setMessage(m, message);
                catalog.audit(m, ACTOR, action, message);
            } catch (RuntimeException e) {
                log.warn("writing the bridge status failed migration={} action={} error={}", m, action, e.toString());
            }
        }
    }

    /**
     * The slot check (docs/cdc-bridge.md, "Slot safety rules") before every engine start, not only a
     * leader term's first: Debezium creates a missing slot at the current position, so an engine
     * restarted after the primary failed over (the slot is not on the promoted replica before
     * PostgreSQL 17's failover slots) would otherwise stream on from there with a silent gap.
     */
    private void checkSlot(Connection c) {
        Optional<Long> stored = new StoredOffsets(config.bootstrapServers(), config.offsetsTopic()).lsn(config.slot());
        try {
            SlotGuard.check(c, config.slot(), stored);
        } catch (ShapeshiftException e) {
            throw refuse(e);
        }
    }

    /** Writes a SOURCE_CHANGED refusal to every migration that wants sync (message and audit) and returns it. */
    private ShapeshiftException refuse(ShapeshiftException e) {
        for (MigrationRecord m : catalog.list()) {
            if (CaptureSet.wantsSync(m.phase())) {
                catalog.setMessage(m.name(), "sync refused: " + e.getMessage());
                catalog.audit(m.name(), ACTOR, "sync-refused", e.getMessage());
            }
        }
        return e;
    }

    /** Stops the engine (if one runs) and captures again; a failed capture leaves no engine and is retried next round. */
    private void restart(Connection c) throws SQLException {
        if (engine != null) {
            if (streaming) {
                // a capture that failed while starting left the state at STARTING: stay there
                mover.move(BridgeState.STREAMING, BridgeState.STARTING);
                streaming = false;
            }
            stopEngine(false);
            // its walsender may hold the slot a while longer: the next start would be refused (10 s gap)
            SlotRelease.await(c, config.slot(), walsenderPid, pause, stopRequested);
            walsenderPid = null;
        }
        capture(c);
        mover.move(BridgeState.STARTING, BridgeState.STREAMING);
        streaming = true;
    }

    /** Slot check, publication, topics, Debezium with the current targets; then records where sync starts. */
    private void capture(Connection c) throws SQLException {
        checkSlot(c);
        targets = readTargets(c);
        Map<TableId, List<SyncTarget>> byTable = CaptureSet.byTable(targets);
        Publication.ensure(c, config.publication(), byTable.keySet());
        if (!targets.isEmpty()) {
            Topics.ensure(config.bootstrapServers(), targets.stream().collect(Collectors.toMap(
                    t -> Topics.changes(t.migration()), t -> config.changesPartitions(), (a, b) -> a)), config.replication());
        }
        publisher = new ChangePublisher(config.bootstrapServers(), "shapeshift-bridge-" + config.slot(), byTable,
                Publication.HEARTBEAT, new ChangePublisher.Counters(metrics.published, metrics.suppressed,
                metrics.heartbeats), this::schemaChanged);
        OriginFilter.Decision origin = OriginFilter.decide(config.originFilter(), c, byTable);
        originNone = origin.on();
        metrics.originNone.set(originNone ? 1 : 0);
        log.info("origin filter slot={} origin_none={} reason=\"{}\"", config.slot(), originNone, origin.reason());
        Timestamp before = now(c);
        engine = new CaptureEngine(config, byTable.keySet(), originNone, publisher);
        // An engine that ends (a lost connection, a failover) is looked at now, not at the next watch round.
        engine.done().whenComplete((ok, error) -> wakeUp.run());
        engine.start();
        awaitStreaming(c, before);
        String lsn = currentLsn(c);
        for (SyncTarget t : targets) {
            // A migration's target table (write switch) is covered from the same LSN as its source.
            if (!t.newShape() && !t.coveredBy(config.slot())) {
                catalog.recordSlot(t.migration(), config.slot(), lsn);
                catalog.audit(t.migration(), ACTOR, "sync-started", "slot " + config.slot() + " covers "
                        + t.table() + " from " + lsn);
                log.info("sync covers table migration={} table={} slot={} start_lsn={}", t.migration(), t.table(),
                        config.slot(), lsn);
            } else if (!t.newShape()) {
                // A new leader term for a migration already streaming: a failover (or a restart) the
                // audit log shows with who leads now; status shows the leader's session since then.
                catalog.audit(t.migration(), ACTOR + " " + instance(), LEADER_TERM_ACTION, instance() + " leads slot "
                        + config.slot() + " and streams " + t.table() + " again from the slot's confirmed position "
                        + "(current WAL " + lsn + ")");
            }
        }
        log.info("capturing slot={} migrations={}", config.slot(), migrations(targets));
    }

    /** Streaming = the slot is active with a walsender that started after our engine did. */
    private void awaitStreaming(Connection c, Timestamp since) throws SQLException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        String sql = "SELECT s.active AND a.backend_start >= ?, s.active_pid FROM pg_replication_slots s "
                + "JOIN pg_stat_activity a ON a.pid = s.active_pid WHERE s.slot_name = ?";
        while (System.nanoTime() < deadline && !stopRequested.getAsBoolean()) {
            if (engine.done().isDone()) {
                Throwable why = engineFailure();
                throw why instanceof ShapeshiftException se ? se : new ShapeshiftException(ErrorCode.UNREACHABLE,
                        "the capture engine stopped while starting: " + why, why);
            }
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setTimestamp(1, since);
                ps.setString(2, config.slot());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getBoolean(1)) {
                        walsenderPid = rs.getInt(2);
                        return;
                    }
                }
            }
            pause.accept(Duration.ofMillis(100));
        }
        if (!stopRequested.getAsBoolean()) {
            throw new ShapeshiftException(ErrorCode.UNREACHABLE, "slot " + config.slot() + " did not become active "
                    + "within 2 minutes (is another process streaming from it?)");
        }
    }

    /** Current targets, after the DDL check: a migration whose used columns changed is stopped here. */
    private List<SyncTarget> readTargets(Connection c) {
        Set<String> stopped = SchemaWatch.stopped(c);
        List<SyncTarget> out = new ArrayList<>();
        for (SyncTarget t : CaptureSet.of(catalog.list(), stopped, c)) {
            // DDL detection watches the source; the target table is the migration's own.
            Optional<String> change = t.newShape() ? Optional.empty() : SchemaWatch.check(c, t);
            if (change.isPresent()) {
                stopSync(c, t, change.get());
            } else {
                out.add(t);
            }
        }
        return out;
    }

    /** Called on Debezium's thread when a table's row schema changes: check before publishing more. */
    private void schemaChanged(TableId table) {
        try (Connection c = connect()) {
            for (SyncTarget t : targets) {
                if (t.table().equals(table) && !t.newShape()) {
                    SchemaWatch.check(c, t).ifPresent(change -> stopSync(c, t, change));
                }
            }
        } catch (SQLException e) {
            throw new ShapeshiftException(ErrorCode.UNREACHABLE, "checking columns of " + table, e);
        }
    }

    private void stopSync(Connection c, SyncTarget t, String change) {
        String message = "sync stopped (SOURCE_CHANGED): source table " + t.table() + " changed: " + change
                + ". The transform may no longer match the source. Recovery: fix the spec for the new shape, "
                + "re-backfill: shapeshift rollback " + t.migration() + " and start the migration again";
        if (publisher != null) {
            publisher.unroute(t.migration());
        }
        SchemaWatch.stop(c, t.migration(), message);
        catalog.setMessage(t.migration(), message);
        catalog.audit(t.migration(), ACTOR, "sync-stopped", message);
        metrics.schemaStops.increment();
        log.error("sync stopped, source changed migration={} table={} change={}", t.migration(), t.table(), change);
    }

    private void probeSlot(Connection c) {
        Optional<SlotState> slot = SlotState.read(c, config.slot());
        if (slot.isEmpty()) {
            // The engine streamed from it a moment ago: dropped behind the bridge's back, or the
            // deployment now points at a promoted replica that never had it (before PostgreSQL 17).
            throw refuse(new ShapeshiftException(ErrorCode.SOURCE_CHANGED, "replication slot " + config.slot()
                    + " disappeared while the bridge was streaming from it (dropped, or the primary failed over to a "
                    + "server without it): changes after the last stored offset are lost. "
                    + SlotGuard.recovery(config.slot())));
        }
        SlotState s = slot.get();
        metrics.lagBytes.set(s.lagBytes());
        metrics.safeWalBytes.set(s.safeWalSize() == null ? BridgeMetrics.UNKNOWN : s.safeWalSize());
        Optional<String> alarm = SlotAlarm.alarm(s, config.safeWalAlarmBytes(), config.retainedWalAlarmBytes());
        if (alarm.isPresent() && !alarmed) {
            log.warn("slot alarm slot={} reason={}", config.slot(), alarm.get());
            status(SLOT_ALARM_ACTION, "slot alarm: " + alarm.get());
        } else if (alarm.isEmpty() && alarmed) {
            log.info("slot alarm cleared slot={} lag_bytes={}", config.slot(), s.lagBytes());
            status(SLOT_ALARM_CLEARED_ACTION, "slot alarm cleared: slot " + config.slot() + " retains "
                    + s.retainedBytes() + " bytes of WAL, lag " + s.lagBytes() + " bytes");
        }
        alarmed = alarm.isPresent();
        metrics.alarm.set(alarmed ? 1 : 0);
    }

    void abortPublishing() {
        ChangePublisher p = publisher;
        if (p != null) {
            p.abort();
        }
    }

    @Override
    public void close() {
        stopEngine(true);
    }

    private void stopEngine(boolean finalStop) {
        if (engine != null) {
            engine.close();
            engine = null;
        }
        if (publisher != null) {
            publisher.close();
            publisher = null;
        }
        if (finalStop) {
            metrics.lagBytes.set(BridgeMetrics.UNKNOWN);
        }
    }

    private Throwable engineFailure() {
        try {
            engine.done().get();
            return new IllegalStateException("the capture engine stopped");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e;
        }
    }

    /**
     * The watch's sessions (slot probe, targets, the slot check, the publication, the schema check):
     * short statements, so they give a silent connection up after {@link Leadership#SOCKET_TIMEOUT},
     * as the leader-lock session does. Without it a half-open partition held the watch in a read
     * until the heal, and the bridge went on {@code STREAMING} long after its lock session had
     * given up (NetworkFaultIT, case 1). {@code lock_timeout} below it ends a publication change that
     * waits for a table lock on the server (retried next round) instead of the client cutting it off.
     */
    static final String WATCH_SERVER_OPTIONS = "-c lock_timeout=10000";

    private Connection connect() {
        return config.database().connectWithSocketTimeout(ACTOR, Leadership.SOCKET_TIMEOUT, WATCH_SERVER_OPTIONS);
    }

    private static Set<String> migrations(List<SyncTarget> ts) {
        return ts.stream().map(SyncTarget::migration).collect(Collectors.toCollection(java.util.TreeSet::new));
    }

    private static Timestamp now(Connection c) throws SQLException {
        return Sql.one(c, "SELECT clock_timestamp()", rs -> rs.getTimestamp(1));
    }

    private static String currentLsn(Connection c) throws SQLException {
        return Sql.one(c, "SELECT pg_current_wal_lsn()::text", rs -> rs.getString(1));
    }
}
