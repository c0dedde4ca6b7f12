package dev.shapeshift.coordinator.reconcile;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.DriftStore;
import dev.shapeshift.catalog.OwnQueries;
import dev.shapeshift.coordinator.reconcile.Differ.Comparison;
import dev.shapeshift.coordinator.reconcile.Differ.Difference;
import dev.shapeshift.coordinator.reconcile.RunStore.Run;
import dev.shapeshift.coordinator.reconcile.RunStore.Suspect;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeyRange;
import dev.shapeshift.spec.Reconcile;
import dev.shapeshift.spec.ResolvedSpec;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs reconciliation for one migration (docs/reconcile.md): walks the source key space in ranges
 * of {@code rangeRows} keys, compares {@code parallelism} ranges at a time ({@link Differ}, each on
 * its own session), parks the differing keys as suspects, re-checks them once the sync has applied
 * past the check, and records only the keys that still differ as drift ({@link DriftStore}). Ranges
 * are stored in key order, each with the checkpoint, and a run resumes from its {@code last_key};
 * memory holds at most {@code 4 × parallelism} ranges' differences.
 *
 * <p>Why one class of ~550 lines: a run's three stages — handing out ranges to the comparing
 * threads, storing them in key order with the checkpoint, re-checking the suspects until they
 * settle — interleave on one thread and one catalog session (the walk re-checks between ranges, the
 * settle re-checks after the last), and share the run's pacer, options and test hooks; cut apart,
 * each piece would need all of that passed in and the checkpoint's ordering rule would be split
 * across files. The catalog SQL lives in {@link RunStore} and {@link DriftStore}, the comparison
 * in {@link Differ}/{@link SinkDiffer} (rendered by {@link DiffSql}), the pace in {@link Pacer};
 * {@link Options} is the frozen configuration and its withers.
 */
public final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);

    /**
     * Frozen configuration of a reconciler.
     *
     * @param rangeRows        source keys per compared range
     * @param maxRowsPerSecond pace of a run over all its connections together (0: no cap); enforced
     *                         by holding back the next range
     * @param recheckAfter     minimum wait between a check and the re-check of a differing key
     * @param interval         pause between runs in continuous mode
     * @param settleTimeout    how long a run waits at its end for suspects to become re-checkable
     *                         (sync caught up); suspects still waiting then stay for the next run
     * @param maxRounds        re-checks of a key whose source row keeps changing before it is left
     *                         to the next run (a hot key is never reported from a moving target)
     * @param recheckBatch     suspects re-compared per statement
     * @param parallelism      ranges compared at the same time, each on its own connection
     */
    @RecordBuilder
    public record Options(int rangeRows, long maxRowsPerSecond, Duration recheckAfter, Duration interval,
                          Duration settleTimeout, int maxRounds, int recheckBatch, int parallelism)
            implements ReconcilerOptionsBuilder.With {
        public Options {
            if (rangeRows < 1 || maxRowsPerSecond < 0 || recheckAfter.isNegative() || interval.isNegative()
                    || settleTimeout.isNegative() || maxRounds < 1 || recheckBatch < 1 || parallelism < 1
                    || parallelism > Reconcile.MAX_PARALLELISM) {
                throw new ShapeshiftException(ErrorCode.SPEC_INVALID, "reconcile options out of range: rangeRows >= 1, "
                        + "maxRowsPerSecond >= 0, durations >= 0, maxRounds >= 1, recheckBatch >= 1, parallelism 1 to "
                        + Reconcile.MAX_PARALLELISM + "; got " + this);
            }
        }

        /** The spec's settings, a settle timeout of three re-check delays plus a minute, 5 rounds, batches of 500. */
        public static Options from(Reconcile r) {
            return new Options(r.rangeRows(), r.maxRowsPerSecond(), r.recheckAfter(), r.interval(),
                    r.recheckAfter().multipliedBy(3).plusMinutes(1), 5, 500, r.parallelism());
        }
    }

    /** Called by a comparing thread just before it compares the {@code index}-th range of a {@link #runOnce} call (tests). */
    @FunctionalInterface
    interface RangeHook {
        void beforeCompare(long index) throws InterruptedException;
    }

    private final Catalog catalog;
    private final String migration;
    private final ResolvedSpec resolved;
    private final SyncProgress sync;
    private final Options options;
    private final RunStore runs;
    private final DriftStore drift;
    private final ReconcileMetrics metrics;
    private final Pacer pacer;

    private final boolean sourceWriteGuard;
    private Runnable afterRange = () -> { };
    private RangeHook beforeCompare = index -> { };
    /** False only in the negative-control test: the checkpoint jumps to the highest range compared. */
    private boolean contiguousCheckpoint = true;
    /** False only in the negative-control test: the query ids of the run's reads are not declared. */
    private boolean declareOwn = true;
    /** Declares this reconciler's reads of the old shape to the access watch. */
    private final OwnQueries own;

    public Reconciler(Catalog catalog, String migration, ResolvedSpec resolved, SyncProgress sync,
                      MeterRegistry registry, Options options) {
        this(catalog, migration, resolved, sync, registry, options, true);
    }

    /**
     * With {@code sourceWriteGuard} false a key that still differs at its re-check is drift even if
     * its source row was written since the check: only negative-control tests build this.
     */
    Reconciler(Catalog catalog, String migration, ResolvedSpec resolved, SyncProgress sync,
               MeterRegistry registry, Options options, boolean sourceWriteGuard) {
        this.sourceWriteGuard = sourceWriteGuard;
        this.catalog = catalog;
        this.migration = migration;
        this.own = new OwnQueries(migration);
        this.resolved = resolved;
        this.sync = sync;
        this.options = options;
        this.runs = new RunStore(catalog);
        this.drift = new DriftStore(catalog);
        this.metrics = new ReconcileMetrics(registry, migration);
        this.pacer = new Pacer(options.maxRowsPerSecond());
    }

    /**
     * One pass over the whole key space (or the rest of an unfinished one). {@code stop} is polled
     * before a range is handed out, after each range is stored and while waiting for re-checks;
     * when it says true the run is left {@code stopped} at the last range stored (ranges still being
     * compared are dropped) and the next call continues it. Returns the run as stored at the end.
     */
    public Run runOnce(BooleanSupplier stop) {
        try (Connection c = catalog.connect(); Comparer differ = Comparer.open(c, resolved)) {
            long estimate = differ.estimatedRows(c);
            Run run = Catalog.inTransaction(c, "starting reconcile of " + migration,
                    conn -> runs.startOrResume(conn, migration, estimate));
            log.info("reconcile run started migration={} run={} resume_after={} ranges_done={}", migration, run.id(),
                    run.lastKey() == null ? "-" : run.lastKey().values(), run.rangesDone());
            try {
                return walk(c, differ, run, stop);
            } catch (RuntimeException e) {
                boolean retryable = e instanceof ShapeshiftException se && se.retryable();
                Catalog.inTransaction(c, "recording reconcile failure", conn -> runs.finish(conn, run.id(),
                        retryable ? "stopped" : "failed", String.valueOf(e.getMessage())));
                throw e;
            }
        } catch (SQLException e) {
            throw dev.shapeshift.db.SqlStates.translate("reconciling " + migration, e);
        }
    }

    /** Runs {@link #runOnce} every {@code interval} until {@code stop}; retryable failures wait for the next turn. */
    public void runContinuously(BooleanSupplier stop) {
        while (!stop.getAsBoolean()) {
            try {
                runOnce(stop);
            } catch (ShapeshiftException e) {
                if (!e.retryable()) {
                    throw e;
                }
                log.warn("reconcile run interrupted, retrying next interval migration={} code={} error={}",
                        migration, e.code(), e.getMessage());
            }
            sleepUnless(stop, options.interval());
        }
    }

    /**
     * Calls {@code listener} after each range's checkpoint has committed (the driver's
     * fault-injection hook, {@code HaltPoint}, uses it); returns this reconciler.
     */
    public Reconciler afterEachRange(Runnable listener) {
        this.afterRange = Objects.requireNonNull(listener);
        return this;
    }

    /** The latest run, for status. */
    public java.util.Optional<Run> status() {
        return runs.latest(migration);
    }

    /**
     * Calls {@code hook} on the comparing thread before each range's comparison (tests: hold a
     * range back so a later one finishes first, or fail at a given range).
     */
    Reconciler beforeEachCompare(RangeHook hook) {
        this.beforeCompare = Objects.requireNonNull(hook);
        return this;
    }

    /**
     * Negative control only: stores every range as soon as it is compared and moves the checkpoint
     * to the end of the highest range compared so far, gaps below it or not — the bug the
     * contiguous checkpoint prevents.
     */
    Reconciler checkpointAtHighestCompared() {
        this.contiguousCheckpoint = false;
        return this;
    }

    /**
     * One range handed out: its place in key order within this call, its bounds, and its comparison
     * once done (set by the handing-out thread when it takes the comparing thread's result).
     */
    private static final class Slot {
        final long index;
        final KeyRange range;
        Comparison result;

        Slot(long index, KeyRange range) {
            this.index = index;
            this.range = range;
        }
    }

    /**
     * Walks the key space in ranges, {@code k = parallelism} of them compared at the same time on
     * k sessions of the run's own (comparing threads), while this thread hands out the ranges in key
     * order (range ends, paced), stores them and re-checks on {@code c}. Ranges finish in any order;
     * a finished range is stored (its suspects, counters and the checkpoint, one transaction) only
     * once every range before it is stored, so {@code last_key} is always the end of the highest
     * contiguous range done and a run resumed after a crash compares again whatever was not known
     * done. At most {@code 4k} ranges are out at once: memory holds at most that many ranges'
     * differences, whatever the table size.
     */
    private Run walk(Connection c, Comparer differ, Run run, BooleanSupplier stop) throws SQLException {
        int k = differ instanceof Differ ? options.parallelism() : 1; // a sink's client is not shared across threads
        int window = 4 * k;
        BlockingQueue<Connection> sessions = new ArrayBlockingQueue<>(k);
        ExecutorService pool = Executors.newFixedThreadPool(k, r -> {
            Thread t = new Thread(r, "shapeshift-reconcile-" + migration);
            t.setDaemon(true);
            return t;
        });
        try {
            for (int i = 0; i < k; i++) {
                sessions.add(catalog.connectUnpooled("reconcile"));
            }
            return walk(c, differ, run, stop, new ExecutorCompletionService<>(pool), sessions, k, window);
        } finally {
            pool.shutdownNow();
            try {
                // A comparison in flight finishes (a JDBC read is not interruptible) before its session closes.
                pool.awaitTermination(10, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (Connection s : sessions) {
                try {
                    s.close();
                } catch (SQLException e) {
                    log.debug("closing a reconcile session failed", e);
                }
            }
        }
    }

    private Run walk(Connection c, Comparer differ, Run run, BooleanSupplier stop, CompletionService<Compared> done,
                     BlockingQueue<Connection> sessions, int k, int window) throws SQLException {
        Instant segmentStart = Instant.now();
        long handedOutRows = 0;
        Duration recheckPoll = recheckPoll();
        long lastRecheck = System.nanoTime();
        Key after = run.lastKey();           // start of the next range to hand out
        Key stored = run.lastKey();          // the stored checkpoint
        long rowsChecked = run.rowsChecked();
        boolean lastHandedOut = false;
        long nextIndex = 0;
        int running = 0;
        TreeMap<Long, Slot> out = new TreeMap<>(); // handed out, not yet stored
        long highestStored = -1;
        while (true) {
            if (stop.getAsBoolean()) {
                return stopped(c, run, "stopped by request after key " + (stored == null ? "-" : stored.values()));
            }
            Duration pause = Duration.ZERO;
            while (!lastHandedOut && running < k && out.size() < window) {
                pause = pacer.pauseAfter(handedOutRows, Duration.between(segmentStart, Instant.now()));
                if (!pause.isZero()) {
                    break;
                }
                Key upTo = differ.rangeEnd(c, after, options.rangeRows());
                Slot slot = new Slot(nextIndex++, new KeyRange(after, upTo));
                out.put(slot.index, slot);
                done.submit(() -> compare(differ, sessions, slot));
                running++;
                handedOutRows += options.rangeRows();
                lastHandedOut = upTo == null;
                after = upTo;
            }
            Future<Compared> f;
            try {
                // Wake for the next finished range, or when the pace lets the next range go out.
                f = done.poll(pause.isZero() ? 200 : Math.max(1, Math.min(200, pause.toMillis())), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted while reconciling", e);
            }
            if (f == null) {
                continue;
            }
            running--;
            Slot finished = result(f);
            // Store every finished range whose predecessors are all stored, one at a time, so a stop
            // between two of them leaves the checkpoint exactly at a range end.
            while (!out.isEmpty()) {
                Slot first = contiguousCheckpoint ? out.firstEntry().getValue() : finished;
                if (first == null || first.result == null) {
                    break;
                }
                out.remove(first.index);
                finished = null;
                Comparison cmp = first.result;
                // The open last range is checkpointed at the highest key it saw, so a run resumed to
                // wait for its re-checks compares only keys that arrived since.
                Key checkpoint = first.range.upTo() == null ? differ.lastKey(c, first.range.after()) : first.range.upTo();
                boolean advance = first.index > highestStored;
                Catalog.inTransaction(c, "checkpointing reconcile of " + migration, conn -> {
                    // A checkpoint lost in a server crash only makes the resumed run compare its
                    // ranges again (its suspects are lost with it and found again): no fsync wait.
                    RunStore.commitWithoutFlushWait(conn);
                    runs.addSuspects(conn, migration, run.id(), cmp.differences(), cmp.lsn(), false);
                    runs.rangeDone(conn, run.id(), advance ? checkpoint : null, cmp.sourceRows());
                    declareOwn(conn, differ);
                    return null;
                });
                if (advance) {
                    stored = checkpoint;
                    highestStored = first.index;
                }
                rowsChecked += cmp.sourceRows();
                metrics.rangeDone(cmp.sourceRows());
                afterRange.run();
                metrics.progress(new Progress(rowsChecked, run.estimatedRows(), false, Duration.ZERO).fraction());
                if (lastHandedOut && out.isEmpty()) {
                    extras(c, differ, run);
                    return settleAndFinish(c, differ, run, stop);
                }
                if (stop.getAsBoolean()) {
                    return stopped(c, run, "stopped by request after key " + (stored == null ? "-" : stored.values()));
                }
            }
            // A suspect is due recheckAfter after its check at the earliest: polling every range
            // would add a catalog round trip per range for nothing (the settle at the end re-checks
            // whatever is left).
            if (System.nanoTime() - lastRecheck >= recheckPoll.toNanos()) {
                recheckDue(c, differ, run.id());
                lastRecheck = System.nanoTime();
            }
        }
    }

    /** A comparing thread's result. */
    private record Compared(Slot slot, Comparison comparison) {
    }

    /** On a comparing thread: one range on one of the run's sessions. */
    private Compared compare(Comparer differ, BlockingQueue<Connection> sessions, Slot slot) throws Exception {
        beforeCompare.beforeCompare(slot.index);
        Connection s = sessions.take();
        try {
            return new Compared(slot, differ.compare(s, slot.range));
        } finally {
            sessions.add(s);
        }
    }

    /** The finished range, or the comparing thread's failure as this thread's. */
    private static Slot result(Future<Compared> f) throws SQLException {
        try {
            Compared done = f.get();
            done.slot().result = done.comparison();
            return done.slot();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted while reconciling", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SQLException se) {
                throw se;
            } else if (cause instanceof RuntimeException re) {
                throw re;
            } else if (cause instanceof Error err) {
                throw err;
            }
            throw new ShapeshiftException(ErrorCode.INTERNAL, "comparing a reconcile range failed: " + cause, cause);
        }
    }

    private Run settleAndFinish(Connection c, Comparer differ, Run run, BooleanSupplier stop) throws SQLException {
        settle(c, differ, run.id(), stop);
        long pending = runs.suspectCount(c, migration);
        if (pending > 0) {
            // Not done: a pass is evidence only when every difference it saw has a verdict. The
            // next call resumes at the last range and waits again.
            return stopped(c, run, stop.getAsBoolean()
                    ? "stopped by request while " + pending + " keys waited for their re-check"
                    : pending + " differing keys still wait for their re-check: the sync has not applied past "
                            + "their check within " + options.settleTimeout().toSeconds() + "s");
        }
        Run finished = Catalog.inTransaction(c, "finishing reconcile of " + migration, conn -> {
            declareOwn(conn, differ);
            drift.resolveNotSeenSince(conn, migration, run.startedAt());
            return runs.finish(conn, run.id(), "done", null);
        });
        metrics.progress(1.0);
        log.info("reconcile run done migration={} run={} ranges={} rows={} drift_found={} transient={}",
                migration, run.id(), finished.rangesDone(), finished.rowsChecked(), finished.driftFound(),
                finished.transientKeys());
        return finished;
    }

    /** After the last range: the differences only a sink's own key listing shows, parked as suspects like the others. */
    private void extras(Connection c, Comparer differ, Run run) throws SQLException {
        differ.extras(c, page -> Catalog.inTransaction(c, "recording sink extras of " + migration, conn -> {
            runs.addSuspects(conn, migration, run.id(), page.differences(), page.lsn(), false);
            return null;
        }));
    }

    /**
     * Declares the query ids of the statements this run read the old shape with (learned by the
     * comparer, {@link dev.shapeshift.db.QueryIds}) as Shapeshift's to the contract's access watch,
     * in the caller's transaction: on a role shared with the application, the watch then knows the
     * reconcile's reads without having to catch them in a sample of {@code pg_stat_activity}.
     */
    private void declareOwn(Connection conn, Comparer differ) {
        if (declareOwn) {
            own.declare(conn, differ.ownQueryIds());
        }
    }

    /** Negative control only: the run's reads are not declared to the access watch. */
    Reconciler withoutDeclaringOwnStatements() {
        this.declareOwn = false;
        return this;
    }

    private Run stopped(Connection c, Run run, String message) {
        log.info("reconcile run stopped migration={} run={} reason={}", migration, run.id(), message);
        return Catalog.inTransaction(c, "stopping reconcile of " + migration,
                conn -> runs.finish(conn, run.id(), "stopped", message));
    }

    /** Waits (up to settleTimeout) until every suspect has been re-checked. */
    private void settle(Connection c, Comparer differ, long runId, BooleanSupplier stop) throws SQLException {
        Instant deadline = Instant.now().plus(options.settleTimeout());
        Duration poll = recheckPoll();
        while (runs.suspectCount(c, migration) > 0 && Instant.now().isBefore(deadline) && !stop.getAsBoolean()) {
            sleepUnless(stop, poll);
            recheckDue(c, differ, runId);
        }
    }

    /** How often due suspects are looked for: half of recheckAfter, between 50 ms and 1 s. */
    private Duration recheckPoll() {
        return Duration.ofMillis(Math.max(50, Math.min(1000, options.recheckAfter().toMillis() / 2)));
    }

    /**
     * Re-compares the suspects that are due (waited recheckAfter, sync applied past their check).
     * Agreeing keys were lag: dropped, and any open drift of theirs resolved. Keys that still differ
     * while their source row was not written since the check are drift. Keys whose source row
     * changed meanwhile are checked again later (up to maxRounds).
     */
    private void recheckDue(Connection c, Comparer differ, long runId) throws SQLException {
        Map<String, Boolean> applied = new HashMap<>();
        while (true) {
            List<Suspect> page = runs.due(c, migration, options.recheckAfter(), options.recheckBatch());
            List<Suspect> ready = new ArrayList<>();
            for (Suspect s : page) {
                if (applied.computeIfAbsent(s.checkLsn(), sync::appliedPast)) {
                    ready.add(s);
                }
            }
            if (ready.isEmpty()) {
                return;
            }
            Comparison now = differ.compare(c, ready.stream().map(Suspect::key).toList());
            Map<Key, Difference> differing = new HashMap<>();
            for (Difference d : now.differences()) {
                differing.put(d.key(), d);
            }
            List<Key> agree = new ArrayList<>();
            List<Difference> confirmed = new ArrayList<>();
            List<Difference> again = new ArrayList<>();
            List<Key> settled = new ArrayList<>();
            for (Suspect s : ready) {
                Difference d = differing.get(s.key());
                if (d == null) {
                    agree.add(s.key());
                    settled.add(s.key());
                } else if (!sourceWriteGuard || Objects.equals(d.sourceXmin(), s.sourceXmin())) {
                    confirmed.add(d);
                    settled.add(s.key());
                } else if (s.rounds() >= options.maxRounds()) {
                    log.info("reconcile key keeps changing, left to the next run migration={} rounds={}", migration, s.rounds());
                    settled.add(s.key());
                } else {
                    again.add(d);
                }
            }
            Catalog.inTransaction(c, "recording re-check of " + migration, conn -> {
                runs.removeSuspects(conn, migration, settled);
                runs.addSuspects(conn, migration, runId, again, now.lsn(), true);
                for (Difference d : confirmed) {
                    drift.record(conn, migration, runId, d.key(), d.kind());
                }
                drift.resolve(conn, migration, agree);
                runs.recheckCounted(conn, runId, ready.size(), agree.size(), confirmed.size());
                return null;
            });
            if (!confirmed.isEmpty()) {
                log.warn("reconcile drift confirmed migration={} run={} keys={}", migration, runId, confirmed.size());
            }
            if (ready.size() < page.size() || page.size() < options.recheckBatch()) {
                return;
            }
        }
    }

    private static void sleepUnless(BooleanSupplier stop, Duration d) {
        long end = System.nanoTime() + d.toNanos();
        try {
            while (!stop.getAsBoolean()) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                Thread.sleep(Math.min(Duration.ofNanos(left).toMillis() + 1, 200));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted while reconciling", e);
        }
    }
}
