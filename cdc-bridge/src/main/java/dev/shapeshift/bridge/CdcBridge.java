package dev.shapeshift.bridge;

import dev.shapeshift.db.Leadership;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.bridge.slot.SlotGuard;
import dev.shapeshift.bridge.slot.StoredOffsets;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cdc-bridge role: one active per source database (slot), standbys wait on the leader lock.
 * Reads like a script — {@link #run}: wait for leadership, then a {@link LeaderTerm} checks the
 * slot, captures the migrations that want sync and streams until stop or lost leadership.
 *
 * <pre>
 * CdcBridge bridge = new CdcBridge(BridgeConfig.of(db, "kafka:9092"), registry);
 * bridge.start();          // returns at once; STANDBY → STARTING → STREAMING in the background
 * bridge.stop();           // clean: Debezium stores the acknowledged offsets, the lock is released
 * </pre>
 */
public final class CdcBridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CdcBridge.class);

    private final BridgeConfig config;
    private final BridgeMetrics metrics;
    private final AtomicReference<BridgeState> state = new AtomicReference<>(BridgeState.NEW);
    private final Object wake = new Object();
    private volatile boolean stopRequested;
    private volatile Throwable failure;
    private volatile LeaderTerm term;
    private Thread thread;

    public CdcBridge(BridgeConfig config, MeterRegistry registry) {
        this.config = config;
        this.metrics = new BridgeMetrics(registry, config.slot(), BridgeConfig.databaseName(config.database()));
    }

    /**
     * Creates or upgrades the catalog ({@link CatalogSchema#migrate}, which also holds the bridge's
     * own tables), then starts the bridge in a background thread; it waits for leadership, then streams.
     */
    public synchronized void start() {
        CatalogSchema.migrate(config.database());
        move(BridgeState.NEW, BridgeState.STANDBY);
        thread = new Thread(this::run, "shapeshift-bridge-" + config.slot());
        thread.start();
    }

    /** Stops cleanly: Debezium stores the offsets of acknowledged records, the lock is released. Idempotent. */
    public void stop() {
        stopRequested = true;
        synchronized (wake) {
            wake.notifyAll();
        }
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(Duration.ofSeconds(60).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Stops like a crash would as far as Kafka is concerned: the producer is closed at once and
     * records not yet acknowledged are dropped (so their offsets are never stored). For tests.
     */
    public void abort() {
        LeaderTerm t = term;
        if (t != null) {
            t.abortPublishing();
        }
        stop();
    }

    @Override
    public void close() {
        stop();
    }

    public BridgeState state() {
        return state.get();
    }

    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    public BridgeMetrics metrics() {
        return metrics;
    }

    public BridgeConfig config() {
        return config;
    }

    /** Waits until the bridge is in {@code wanted} (true) or the timeout passed or it ended elsewhere (false). */
    public boolean awaitState(BridgeState wanted, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            BridgeState s = state.get();
            if (s == wanted) {
                return true;
            }
            if (s.terminal()) {
                return false;
            }
            Thread.sleep(50);
        }
        return state.get() == wanted;
    }

    /** The explicit clean-up operation: drops the slot. Never called by the bridge itself. */
    public static boolean dropSlot(Database database, String slot) {
        return SlotGuard.dropSlot(database, slot);
    }

    /** Recovery after a re-backfill: forget the stored offsets of the configured slot. */
    public static void forgetOffsets(BridgeConfig config) {
        new StoredOffsets(config.bootstrapServers(), config.offsetsTopic()).forget(config.slot());
        log.warn("stored offsets forgotten slot={} topic={}", config.slot(), config.offsetsTopic());
    }

    /** How often the lock session is checked while leading ({@link Leadership#checkEvery}). */
    static final Duration LEADERSHIP_CHECK = Duration.ofSeconds(1);
    /** Set by {@link #leadershipLost} (the check thread), cleared when a new term starts. */
    private volatile boolean termLost;

    private void run() {
        try (Leadership leadership = new Leadership(config.database(), "shapeshift.bridge/" + config.slot(), "cdc-bridge-leader")) {
            // checked on its own thread: a watch round stuck behind a partition must not delay noticing the loss
            leadership.checkEvery(LEADERSHIP_CHECK, this::leadershipLost);
            while (!stopRequested) {
                if (!leadership.tryAcquire()) {
                    pause(config.leaderRetry());
                    continue;
                }
                metrics.leader.set(1);
                termLost = false;
                move(BridgeState.STANDBY, BridgeState.STARTING);
                term = new LeaderTerm(config, metrics, leadership, this::move, () -> stopRequested, this::pause, this::wakeUp);
                try {
                    try {
                        term.lead();
                    } catch (TermLost e) {
                        // the check thread found the lock lost and said STANDBY while this thread was busy
                    }
                    if (!stopRequested) {
                        // Said before the term closes: under a half-open partition closing the engine waits out
                        // its own timeouts, and meanwhile the state must not claim STREAMING (NetworkFaultIT).
                        if (termLost) {
                            log.info("leader term ended slot={} (the lock was found lost before)", config.slot());
                        } else {
                            log.warn("leadership lost, back to standby slot={}", config.slot());
                        }
                        metrics.leader.set(0);
                        move(state.get(), BridgeState.STANDBY);
                    }
                } finally {
                    term.close();
                    term = null;
                    metrics.leader.set(0);
                }
            }
            move(state.get(), BridgeState.STOPPING);
            move(BridgeState.STOPPING, BridgeState.STOPPED);
        } catch (Throwable e) {
            failure = e;
            String code = e instanceof ShapeshiftException se ? se.code().name() : ErrorCode.INTERNAL.name();
            log.error("bridge failed slot={} code={} error={}", config.slot(), code, e.getMessage(), e);
            move(state.get(), BridgeState.FAILED);
        }
    }

    /**
     * The leadership check thread found the lock lost: the bridge says {@code STANDBY} now, while its
     * leader thread may still wait out a timeout in a watch round, an engine's stop or a restart
     * (under a half-open partition each takes up to 20 s, and before this the state said
     * {@code STREAMING} for their sum, NetworkFaultIT). The leader thread's next move ends the term
     * ({@link TermLost}); its engine is stopped when the term closes.
     */
    private void leadershipLost() {
        termLost = true;
        metrics.leader.set(0);
        while (true) {
            BridgeState s = state.get();
            if (s != BridgeState.STARTING && s != BridgeState.STREAMING) {
                break;
            }
            if (state.compareAndSet(s, BridgeState.STANDBY)) {
                log.warn("leadership lost, back to standby slot={} from={} (the lock session's check)", config.slot(), s);
                break;
            }
        }
        wakeUp();
    }

    /** Thrown by a leader thread's {@link #move} after {@link #leadershipLost}: the term is over. */
    private static final class TermLost extends RuntimeException {
        TermLost() {
            super("leadership lost", null, false, false);
        }
    }

    /** Compare-and-set on the lifecycle, logged; an illegal move is a bug. */
    boolean move(BridgeState from, BridgeState to) {
        if (from == to) {
            return true;
        }
        if (!from.canMoveTo(to)) {
            throw new IllegalStateException("bridge cannot move from " + from + " to " + to);
        }
        if (!state.compareAndSet(from, to)) {
            if (termLost && state.get() == BridgeState.STANDBY) {
                throw new TermLost();
            }
            throw new IllegalStateException("bridge state changed concurrently: expected " + from + ", is " + state.get());
        }
        log.info("bridge state changed slot={} from={} to={}", config.slot(), from, to);
        return true;
    }

    /** Ends the current {@link #pause} early (the watch looks now). */
    void wakeUp() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /** Sleeps up to {@code d}, waking early on stop. */
    void pause(Duration d) {
        synchronized (wake) {
            if (stopRequested) {
                return;
            }
            try {
                wake.wait(d.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopRequested = true;
            }
        }
    }
}
