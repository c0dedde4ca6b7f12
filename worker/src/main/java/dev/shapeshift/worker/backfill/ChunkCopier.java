package dev.shapeshift.worker.backfill;

import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.ChunkStore.Lease;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeyRange;
import dev.shapeshift.refresh.RefreshResult;
import dev.shapeshift.refresh.Refresher;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.sinks.SinkApplier;
import dev.shapeshift.sinks.SinkRefresh;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.worker.throttle.Decision;
import dev.shapeshift.worker.throttle.Limits;
import dev.shapeshift.worker.throttle.SignalCollector;
import dev.shapeshift.worker.throttle.Throttler;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one leased chunk in sub-batches. Each sub-batch is one short worker transaction that
 * claims the chunk's row (guarded by the lease's epoch), copies up to n keys after the checkpoint
 * ({@link Refresher#copy}: in table mode an insert of the missing keys inside the migration's
 * fence, in place a guarded UPDATE) and moves the chunk's checkpoint ({@code last_key}, rows,
 * heartbeat) in the same transaction: a worker that lost the chunk rolls back and stops. A crash loses at most the one
 * uncommitted sub-batch; the next owner resumes after the stored checkpoint.
 *
 * <p>Nothing of a chunk is held in the JVM: the copy is one SQL statement per sub-batch, and only
 * counts and the last key come back.
 *
 * <p>Why one class of ~340 lines: one chunk's copy loop and its three ways of waiting — the
 * throttle, a sink's degraded writes, the retry back-off — act on the same lease, sub-batch size
 * and host (keep-alive, stop) between two sub-batches; the statement is {@code Refresher}'s, the
 * sub-batch size {@link BatchSizer}'s and the throttle's decision {@code Throttler}'s.
 */
public final class ChunkCopier {
    private static final Logger log = LoggerFactory.getLogger(ChunkCopier.class);
    private static final Duration HEARTBEAT_WHILE_WAITING = Duration.ofSeconds(2);

    enum Outcome { DONE, LOST_LEASE, STOPPED }

    /** The consumer around the copier: whether to go on, and a chance to keep its group membership alive. */
    interface Host {
        boolean keepGoing();

        void idle();
    }

    /** Sees every committed sub-batch (tests, metrics, the benchmark). */
    public interface BatchListener {
        BatchListener NONE = (lease, after, result) -> { };

        void committed(Lease lease, Key after, RefreshResult result);

        /** With the sub-batch transaction's wall time (statement, checkpoint and commit). */
        default void committed(Lease lease, Key after, RefreshResult result, Duration transaction) {
            committed(lease, after, result);
        }
    }

    /** Thrown inside the transaction so that it rolls back; SQLException so WorkerTransactions does. */
    static final class LostLease extends SQLException {
        private static final long serialVersionUID = 1L;

        LostLease() {
            super("chunk lease lost", "SSL01");
        }
    }

    private record Step(RefreshResult result, boolean done) {
    }

    private final ChunkStore store;
    private final Refresher refresher;
    private final WorkerTransactions transactions;
    private final SignalCollector signals;
    private final Limits limits;
    private final BloatGuard bloat;
    private final BatchListener listener;
    private final String echoMark;
    private final int chunkRows;
    private final int firstBatch;
    private final Duration targetTransaction;
    /**
     * One sizer per worker, kept across chunks: what it learned about the table's speed holds for
     * the next chunk too. A sizer per chunk restarted every chunk at {@code batchRows} and so spent
     * most of each chunk in small transactions (docs/performance.md, "Where the time goes").
     */
    private final BatchSizer sizer;
    private volatile String throttleReason = "none";
    /** The reason last written to the chunk's row (null: none since the last checkpoint cleared it). */
    private String recordedReason;
    private static final Duration RECORD_WAITS_FROM = Duration.ofSeconds(1);
    private static final Duration RECORD_REFRESH = Duration.ofSeconds(5);
    private long recordedAt;

    /** A throttle reason without its figures: "slot lag 73.6 MB" and "slot lag 64.5 MB" are one kind. */
    static String kind(String reason) {
        return reason.replaceAll("[0-9.]+", "#");
    }
    /**
     * The rate cap's pacing memory, also per worker and kept across chunks: the rows of the last
     * sub-batch and when it started. Reset per chunk, the first sub-batch of every chunk went
     * unpaced, and a worker with small chunks copied at ~1.5x its cap.
     */
    private long paceRows;
    private long paceStart = System.nanoTime();

    /** Sink mode: the rows are read under FOR SHARE, applied after the read commits, then checkpointed. */
    private final SinkRefresh sinkRefresh;
    private final SinkApplier sink;

    ChunkCopier(ChunkStore store, ResolvedSpec resolved, SignalCollector signals, Limits limits, BloatGuard bloat,
                BatchListener listener) {
        this(store, resolved, signals, limits, bloat, listener, null);
    }

    ChunkCopier(ChunkStore store, ResolvedSpec resolved, SignalCollector signals, Limits limits, BloatGuard bloat,
                BatchListener listener, SinkApplier sink) {
        this.sink = sink;
        this.sinkRefresh = sink == null ? null : new SinkRefresh(resolved);
        var backfill = resolved.spec().backfill();
        this.store = store;
        this.refresher = new Refresher(resolved);
        // One attempt per transaction: lock timeouts come back here, are counted as a throttle
        // signal and retried after a back-off between transactions.
        this.transactions = new WorkerTransactions(new WorkerTransactions.Policy(backfill.lockTimeout(),
                Duration.ofMillis(100), 1, Duration.ofMillis(50), Duration.ofSeconds(2)));
        this.signals = signals;
        this.limits = limits;
        this.bloat = bloat;
        this.listener = listener;
        this.echoMark = WorkerTransactions.echoMark(resolved);
        this.chunkRows = backfill.chunkRows();
        this.firstBatch = backfill.batchRows();
        this.targetTransaction = backfill.targetTransaction();
        this.sizer = new BatchSizer(firstBatch, chunkRows, targetTransaction);
    }

    String throttleReason() {
        return throttleReason;
    }

    Outcome copy(Connection c, Lease lease, Host host) {
        Key last = lease.resumeFrom();
        KeyRange range = lease.range();
        long lastStart = paceStart;
        int transientInARow = 0;
        if (lease.attempts() > 1) {
            log.info("chunk resumed migration={} chunk={} attempt={} rows_copied={} from_checkpoint={}",
                    lease.migration(), lease.chunk(), lease.attempts(), lease.rowsCopied(), last != null);
        }
        while (true) {
            Outcome waited = throttle(lease, host, paceRows, lastStart);
            if (waited != null) {
                return waited;
            }
            int size = Math.max(BatchSizer.MIN_ROWS, Math.min(sizer.size(), Throttler.maxBatchRows(signals.current())));
            KeyRange todo = last == null ? range : range.resumeAfter(last);
            lastStart = System.nanoTime();
            Step step;
            try {
                step = sink != null ? sinkStep(c, lease, todo, size) : transactions.run(c, echoMark, conn -> {
                    if (!store.claim(conn, lease)) {
                        throw new LostLease();
                    }
                    RefreshResult r = refresher.copy(conn, todo, size);
                    boolean done = r.lastKey() == null || r.read() < size;
                    if (!store.checkpoint(conn, lease, r.lastKey(), r.read(), r.written(), done)) {
                        throw new LostLease();
                    }
                    return new Step(r, done);
                });
            } catch (SinkApplier.Closing e) {
                return Outcome.STOPPED; // the consumer closes: the chunk is released, its checkpoint stays
            } catch (ShapeshiftException e) {
                if (e.code() == ErrorCode.SINK_UNAVAILABLE) {
                    Outcome left = sinkDegraded(lease, host, e);
                    if (left != null) {
                        return left;
                    }
                    continue;
                }
                if (e.getCause() instanceof LostLease) {
                    log.warn("chunk lease lost, batch rolled back migration={} chunk={} epoch={}",
                            lease.migration(), lease.chunk(), lease.epoch());
                    return Outcome.LOST_LEASE;
                }
                if (e.code() != ErrorCode.TRANSIENT) {
                    throw e;
                }
                signals.lockTimeout();
                sizer.lockTimedOut();
                transientInARow++;
                log.debug("sub-batch yielded to the application migration={} chunk={} in_a_row={}",
                        lease.migration(), lease.chunk(), transientInARow);
                if (!sleepKeepingAlive(backoff(transientInARow), lease, host)) {
                    return host.keepGoing() ? Outcome.LOST_LEASE : Outcome.STOPPED;
                }
                continue;
            }
            transientInARow = 0;
            Duration took = Duration.ofNanos(System.nanoTime() - lastStart);
            sizer.observe(size, step.result().read(), took);
            recordedReason = null; // the checkpoint cleared the chunk's throttle_reason
            listener.committed(lease, last, step.result(), took);
            paceRows = step.result().read();
            paceStart = lastStart;
            if (step.result().lastKey() != null) {
                last = step.result().lastKey();
            }
            if (bloat != null) {
                bloat.afterBatch(c);
            }
            if (step.done()) {
                return Outcome.DONE;
            }
        }
    }

    /**
     * A sink sub-batch: read the rows (claiming the chunk) in one transaction, apply them to the
     * sink after it committed, then move the checkpoint in a second transaction that claims the
     * chunk again. A crash between the apply and the checkpoint repeats the sub-batch: harmless,
     * the sink keeps the newer version. Nothing is checkpointed past an unapplied row.
     */
    private Step sinkStep(Connection c, Lease lease, KeyRange todo, int size) {
        SinkRefresh.RangeBatch batch = transactions.run(c, null, conn -> {
            if (!store.claim(conn, lease)) {
                throw new LostLease();
            }
            return sinkRefresh.forRange(conn, todo, size);
        });
        SinkApplier.Outcome applied = sink.apply(batch.rows());
        if (!applied.refused().isEmpty()) {
            throw new ShapeshiftException(ErrorCode.POISON_RECORD, "sink '" + sink.sinkName() + "' refused "
                    + applied.refused().size() + " row(s) of the chunk for good: " + SinkApplier.describe(applied.refused())
                    + ". The chunk stops here; fix the rows (or the plugin) and retry the chunk.");
        }
        boolean done = batch.lastKey() == null || batch.rows().size() < size;
        RefreshResult r = new RefreshResult(batch.rows().size(), applied.applied(), 0, batch.lastKey());
        return transactions.run(c, null, conn -> {
            if (!store.claim(conn, lease) || !store.checkpoint(conn, lease, r.lastKey(), r.read(), r.written(), done)) {
                throw new LostLease();
            }
            return new Step(r, done);
        });
    }

    /** The sink stayed unavailable through its retry policy: say so on the chunk, wait, then try again. */
    private Outcome sinkDegraded(Lease lease, Host host, ShapeshiftException e) {
        String reason = "sink degraded: " + e.getMessage() + "; retrying every " + sink.policy().maxBackoff().toMillis() + " ms";
        throttleReason = reason;
        if (!reason.equals(recordedReason)) {
            if (!store.throttled(lease, reason)) {
                return host.keepGoing() ? Outcome.LOST_LEASE : Outcome.STOPPED;
            }
            recordedReason = reason;
        }
        log.warn("backfill waits for its sink migration={} chunk={} reason={}", lease.migration(), lease.chunk(), e.getMessage());
        if (!sleepKeepingAlive(sink.policy().maxBackoff(), lease, host)) {
            return host.keepGoing() ? Outcome.LOST_LEASE : Outcome.STOPPED;
        }
        return null;
    }

    /** Waits while the throttle says so; null to go on, or why the chunk must be left. */
    private Outcome throttle(Lease lease, Host host, long rowsLast, long lastStart) {
        boolean waited = false;
        while (true) {
            if (!host.keepGoing()) {
                return Outcome.STOPPED;
            }
            Decision d = Throttler.decide(signals.current(), limits, rowsLast,
                    Duration.ofNanos(System.nanoTime() - lastStart));
            if (!d.waits()) {
                if (!waited) {
                    throttleReason = "none";
                }
                return null;
            }
            waited = true;
            // Short waits (pacing under a rate cap) are not worth a catalog write per sub-batch;
            // a wait of a second or more, or a new reason, is recorded for status and the driver.
            // A reason of another kind is written at once; the same kind with new figures (the slot lag
            // moves every second) at most every RECORD_REFRESH.
            boolean newKind = recordedReason == null || !kind(d.reason()).equals(kind(recordedReason));
            boolean worth = d.delay().compareTo(RECORD_WAITS_FROM) >= 0 || recordedReason != null;
            if (worth && !d.reason().equals(recordedReason)
                    && (newKind || System.nanoTime() - recordedAt >= RECORD_REFRESH.toNanos())) {
                if (!store.throttled(lease, d.reason())) {
                    return host.keepGoing() ? Outcome.LOST_LEASE : Outcome.STOPPED;
                }
                recordedReason = d.reason();
                recordedAt = System.nanoTime();
            }
            throttleReason = d.reason();
            if (!sleepKeepingAlive(d.delay(), lease, host)) {
                return host.keepGoing() ? Outcome.LOST_LEASE : Outcome.STOPPED;
            }
        }
    }

    /** Sleeps in short slices, keeping the consumer and the lease alive; false if either is lost. */
    private boolean sleepKeepingAlive(Duration wait, Lease lease, Host host) {
        long end = System.nanoTime() + wait.toNanos();
        long nextHeartbeat = System.nanoTime() + HEARTBEAT_WHILE_WAITING.toNanos();
        while (true) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            try {
                Thread.sleep(Math.min(Math.max(1, left / 1_000_000), 250));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            host.idle();
            if (!host.keepGoing()) {
                return false;
            }
            if (System.nanoTime() > nextHeartbeat) {
                if (!store.heartbeat(lease)) {
                    return false;
                }
                nextHeartbeat = System.nanoTime() + HEARTBEAT_WHILE_WAITING.toNanos();
            }
        }
    }

    private static Duration backoff(int attempt) {
        long base = Math.min(2_000, 50L << Math.min(attempt - 1, 10));
        return Duration.ofMillis(base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1));
    }
}
