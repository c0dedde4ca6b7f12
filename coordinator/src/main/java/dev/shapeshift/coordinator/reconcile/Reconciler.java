package dev.shapeshift.coordinator.reconcile;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.DriftStore;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs reconciliation for one migration (docs/reconcile.md): walks the source key space in ranges
 * of {@code rangeRows} keys, compares each range ({@link Differ}), parks the differing keys as
 * suspects, re-checks them once the sync has applied past the check, and records only the keys
 * that still differ as drift ({@link DriftStore}). A run is checkpointed after every range and
 * resumes from its {@code last_key}; memory holds at most one range's differences.
 */
public final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);

    /**
     * Frozen configuration of a reconciler.
     *
     * @param rangeRows        source keys per compared range
     * @param maxRowsPerSecond pace of a run (0: no cap); enforced by sleeping between ranges
     * @param recheckAfter     minimum wait between a check and the re-check of a differing key
     * @param interval         pause between runs in continuous mode
     * @param settleTimeout    how long a run waits at its end for suspects to become re-checkable
     *                         (sync caught up); suspects still waiting then stay for the next run
     * @param maxRounds        re-checks of a key whose source row keeps changing before it is left
     *                         to the next run (a hot key is never reported from a moving target)
     * @param recheckBatch     suspects re-compared per statement
     */
    public record Options(int rangeRows, long maxRowsPerSecond, Duration recheckAfter, Duration interval,
                          Duration settleTimeout, int maxRounds, int recheckBatch) {
        public Options {
            if (rangeRows < 1 || maxRowsPerSecond < 0 || recheckAfter.isNegative() || interval.isNegative()
                    || settleTimeout.isNegative() || maxRounds < 1 || recheckBatch < 1) {
                throw new ShapeshiftException(ErrorCode.SPEC_INVALID, "reconcile options out of range: rangeRows >= 1, "
                        + "maxRowsPerSecond >= 0, durations >= 0, maxRounds >= 1, recheckBatch >= 1; got " + this);
            }
        }

        /** The spec's settings, a settle timeout of three re-check delays plus a minute, 5 rounds, batches of 500. */
        public static Options from(Reconcile r) {
            return new Options(r.rangeRows(), r.maxRowsPerSecond(), r.recheckAfter(), r.interval(),
                    r.recheckAfter().multipliedBy(3).plusMinutes(1), 5, 500);
        }

        public Options withRangeRows(int rows) {
            return new Options(rows, maxRowsPerSecond, recheckAfter, interval, settleTimeout, maxRounds, recheckBatch);
        }

        public Options withRecheckAfter(Duration d) {
            return new Options(rangeRows, maxRowsPerSecond, d, interval, settleTimeout, maxRounds, recheckBatch);
        }

        public Options withSettleTimeout(Duration d) {
            return new Options(rangeRows, maxRowsPerSecond, recheckAfter, interval, d, maxRounds, recheckBatch);
        }

        public Options withInterval(Duration d) {
            return new Options(rangeRows, maxRowsPerSecond, recheckAfter, d, settleTimeout, maxRounds, recheckBatch);
        }

        public Options withMaxRowsPerSecond(long rate) {
            return new Options(rangeRows, rate, recheckAfter, interval, settleTimeout, maxRounds, recheckBatch);
        }
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
     * before every range and while waiting for re-checks; when it says true the run is left
     * {@code stopped} and the next call continues it. Returns the run as stored at the end.
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

    private Run walk(Connection c, Comparer differ, Run run, BooleanSupplier stop) throws SQLException {
        Instant segmentStart = Instant.now();
        long segmentRows = 0;
        Duration recheckPoll = recheckPoll();
        long lastRecheck = System.nanoTime();
        Key after = run.lastKey();
        long rowsChecked = run.rowsChecked();
        while (true) {
            if (stop.getAsBoolean()) {
                return stopped(c, run, "stopped by request after key " + (after == null ? "-" : after.values()));
            }
            Key upTo = differ.rangeEnd(c, after, options.rangeRows());
            Comparison cmp = differ.compare(c, new KeyRange(after, upTo));
            // The open last range is checkpointed at the highest key it saw, so a run resumed to
            // wait for its re-checks compares only keys that arrived since.
            Key checkpoint = upTo != null ? upTo : differ.lastKey(c, after);
            Catalog.inTransaction(c, "checkpointing reconcile of " + migration, conn -> {
                // A checkpoint lost in a server crash only makes the resumed run compare its
                // ranges again (its suspects are lost with it and found again): no fsync wait.
                RunStore.commitWithoutFlushWait(conn);
                runs.addSuspects(conn, migration, run.id(), cmp.differences(), cmp.lsn(), false);
                runs.rangeDone(conn, run.id(), checkpoint, cmp.sourceRows());
                return null;
            });
            segmentRows += cmp.sourceRows();
            rowsChecked += cmp.sourceRows();
            metrics.rangeDone(cmp.sourceRows());
            afterRange.run();
            metrics.progress(new Progress(rowsChecked, run.estimatedRows(), false, Duration.ZERO).fraction());
            // A suspect is due recheckAfter after its check at the earliest: polling every range
            // would add a catalog round trip per range for nothing (the settle at the end re-checks
            // whatever is left).
            if (System.nanoTime() - lastRecheck >= recheckPoll.toNanos()) {
                recheckDue(c, differ, run.id());
                lastRecheck = System.nanoTime();
            }
            if (upTo == null) {
                extras(c, differ, run);
                break;
            }
            after = upTo;
            Duration pause = pacer.pauseAfter(segmentRows, Duration.between(segmentStart, Instant.now()));
            sleepUnless(stop, pause);
        }
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
