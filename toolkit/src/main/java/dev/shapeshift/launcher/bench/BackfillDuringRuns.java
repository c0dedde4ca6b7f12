package dev.shapeshift.launcher.bench;

import static dev.shapeshift.launcher.bench.SyncBench.MIGRATION;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.db.Database;
import dev.shapeshift.launcher.bench.SyncBench.BackfillDuring;
import dev.shapeshift.launcher.bench.SyncBench.BulkUnderLoad;
import dev.shapeshift.launcher.bench.SyncBench.Options;
import dev.shapeshift.launcher.bench.SyncBench.Phase;
import dev.shapeshift.worker.Worker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code bench sync --backfill-during}: the runs of {@link SyncBench} with an in-place backfill of
 * the whole table under the load, against one bulk {@code UPDATE} of the idle table and one under
 * the same load (see {@link #run}). Its figures go to {@link #during}, {@link #bulkSeconds} and
 * {@link #bulkUnderLoad}; its timed pgbench runs to the shared {@link SyncRuns}.
 *
 * <p>Why one class of ~370 lines: the goal-1 measurement is one sequence read in order (the bulk
 * statement idle and under load, then the backfill with the origin filter on and off, each between
 * resets of the table) and every step shares the same load, probe, CPU counters and pgbench log
 * windows through {@link #underLoad}; split, a reader would have to follow the sequence across files.
 */
final class BackfillDuringRuns {
    private static final Logger log = LoggerFactory.getLogger(SyncBench.class);

    private final Options o;
    private final PrintStream out;
    private final SyncRuns runs;
    /** One entry per backfill (origin filter on, off). */
    final List<BackfillDuring> during = new ArrayList<>();
    /** One bulk UPDATE of the whole idle table, same run (null before it ran). */
    Double bulkSeconds;
    /** One bulk UPDATE of the whole table under the same load as the backfills, same run (null before it ran). */
    BulkUnderLoad bulkUnderLoad;

    BackfillDuringRuns(Options o, PrintStream out, SyncRuns runs) {
        this.o = o;
        this.out = out;
        this.runs = runs;
    }

    /**
     * {@code --backfill-during} (issue 18 goal 1): the same load without and with an in-place
     * backfill of the whole table by the product's workers, once with the bridge's origin filter on
     * (the backfill's rows never decoded) and once off (decoded, dropped by the echo mark), and two
     * baselines of the backfill: one bulk {@code UPDATE} of the idle table, and one of the same
     * table under the same load (filter on, sync running, before the filter-on backfill; pgbench's
     * tps and latency during it are what the application pays for the bulk statement), all in this run. Between
     * runs the new column is reset to NULL and the table rewritten ({@code VACUUM FULL}), so every
     * backfill starts from the same table; the resets run under a replication origin while the
     * filter is on, so the bridge never decodes them (and so never lags from them). Returns the
     * bridge running at the end (the caller closes it).
     */
    CdcBridge run(Database db, String bootstrap, BridgeConfig config, CdcBridge bridge, Pgbench bench,
                                     ServerCpu cpu, ApplyLagProbe probe, ApplyLagProbe.Replica replica, int rate)
            throws Exception {
        if (bridge.metrics().originNone() != 1) {
            throw new IllegalStateException("bench: the bridge does not stream with origin = 'none' (PostgreSQL 16+ "
                    + "needed, no other replication origin); see the bridge's log line 'origin filter'");
        }
        resetNewColumn(db);
        bulkSeconds = bulkUpdate(db)[0];
        out.printf(Locale.ROOT, "bulk UPDATE of the idle table (origin-filtered, not decoded): %.2f s%n", bulkSeconds);
        for (boolean filter : List.of(true, false)) {
            resetNewColumn(db); // while the filter is still on: the reset is never decoded
            if (!filter) {
                bridge.close();
                bridge = new CdcBridge(config
                        .withOriginFilter(false), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                bridge.start();
                if (!bridge.awaitState(dev.shapeshift.bridge.BridgeState.STREAMING, Duration.ofMinutes(2))) {
                    throw new IllegalStateException("bench: the bridge did not stream again: " + bridge.failure());
                }
            }
            String label = filter ? "origin filter on" : "origin filter off (echo mark)";
            try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
                // no chunk to take until the backfill run makes them pending (the coordinator's tasks are consumed as done)
                s.executeUpdate("UPDATE shapeshift.chunk SET status = 'done' WHERE migration = '" + MIGRATION + "'");
            }
            List<Worker> workers = new ArrayList<>();
            try {
                for (int i = 1; i <= 2; i++) { // two workers, sync and backfill each, as in the product
                    Worker w = new Worker(db, bootstrap, Worker.Config.of("bench-sync-worker-" + i, List.of(MIGRATION)),
                            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                    w.start();
                    workers.add(w);
                }
                probe.replica(replica);
                if (!probe.awaitCaughtUp(Duration.ofMinutes(3))) {
                    throw new IllegalStateException("Shapeshift sync did not deliver the probe row within 3 minutes");
                }
                runs.warmUp(bench, rate);
                Phase quiet = runs.measure(bench, cpu, null, probe, "shapeshift sync, no backfill, " + label + ", -R " + rate,
                        "shapeshift", rate, null);
                if (filter) {
                    bulkUnderLoad = bulkUnderLoad(db, bridge, bench, cpu, probe, rate);
                    resetNewColumn(db); // the backfill starts from the same table as the bulk UPDATE did
                }
                during.add(backfillUnderLoad(db, bootstrap, bridge, bench, cpu, probe, rate, filter, quiet));
                probe.replica(null);
            } finally {
                for (Worker w : workers) {
                    w.close();
                }
            }
        }
        return bridge;
    }

    /** What one operation run under the load cost, as pgbench and the probe saw it. */
    private record Loaded<T>(T value, double seconds, Phase phase, PgbenchLog.Window appBefore,
                             PgbenchLog.Window appDuring, double echoEventsDecoded) {
    }

    /** An operation run under the load; its result is kept in {@link Loaded#value()}. */
    @FunctionalInterface
    private interface Operation<T> {
        T run() throws Exception;
    }

    /**
     * Runs {@code op} under pgbench at {@code rate}: 10-s pgbench runs back to back (each with its
     * per-transaction log) from 3 s before {@code op} starts until after it ends and at least
     * {@code --duration}; then waits for the sync to catch up. The phase's probe lags are those of
     * the probes written from {@code op}'s start until the catch-up; pgbench's figures before and
     * during {@code op} come from its log ({@link PgbenchLog#window}).
     */
    private <T> Loaded<T> underLoad(String name, Pgbench bench, ServerCpu cpu, ApplyLagProbe probe, CdcBridge bridge,
                                    int rate, Operation<T> op) throws Exception {
        java.nio.file.Path logDir = java.nio.file.Files.createTempDirectory("shapeshift-bench-pgbench-log");
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<Pgbench.Result> loads = java.util.Collections.synchronizedList(new ArrayList<>());
        long minLoadNanos = TimeUnit.SECONDS.toNanos(o.seconds());
        Thread load = new Thread(() -> {
            long start = System.nanoTime();
            try {
                // 10-s pgbench runs until the operation is done and the load ran at least --duration
                while (running.get() || System.nanoTime() - start < minLoadNanos) {
                    loads.add(bench.run(o.clients(), o.threads(), 10, rate, null, logDir.resolve("run" + loads.size())));
                }
            } catch (Exception e) {
                log.warn("bench: pgbench during {} failed: {}", name, e.toString());
            }
        }, "bench-load-during-operation");
        String loadStart = Machine.loadAverage();
        double src0 = cpu.serverSeconds();
        double jvm0 = ServerCpu.jvmSeconds();
        long loadStartMicros = epochMicros();
        load.start();
        Thread.sleep(3000); // the load runs before the operation starts
        double suppressed0 = bridge.metrics().suppressed();
        probe.take();
        long fromMicros = epochMicros();
        long t0 = System.nanoTime();
        T value;
        try {
            value = op.run();
        } finally {
            running.set(false);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long toMicros = epochMicros();
        probe.awaitCaughtUp(Duration.ofMinutes(3));
        ApplyLagProbe.Snapshot snap = probe.take();
        double suppressed = bridge.metrics().suppressed() - suppressed0;
        load.join();
        String loadEnd = Machine.loadAverage();
        List<PgbenchLog.Txn> txns = new ArrayList<>();
        for (int i = 0; i < loads.size(); i++) {
            txns.addAll(PgbenchLog.read(logDir, "run" + i));
        }
        try (var files = java.nio.file.Files.list(logDir)) {
            for (java.nio.file.Path f : files.toList()) {
                java.nio.file.Files.delete(f);
            }
        }
        java.nio.file.Files.delete(logDir);
        long txnCount = loads.stream().mapToLong(Pgbench.Result::transactions).sum();
        long failed = loads.stream().mapToLong(Pgbench.Result::failed).sum();
        double loadSeconds = loads.size() * 10.0;
        Pgbench.Result combined = new Pgbench.Result(txnCount / Math.max(1, loadSeconds), txnCount, failed, null, null, null,
                null, loads.size() + " pgbench runs of 10 s back to back (the operation ran inside them)\n\n"
                        + String.join("\n---\n", loads.stream().map(Pgbench.Result::output).toList()));
        Phase p = new Phase(name, "shapeshift", rate, combined, snap.lags().count(), snap.lags().percentile(50),
                snap.lags().percentile(99), snap.lags().percentile(100), snap.notArrived(), null, null, null,
                cpu.serverSeconds() - src0, 0, ServerCpu.jvmSeconds() - jvm0, loadStart, loadEnd, null);
        return new Loaded<>(value, seconds, p, PgbenchLog.window(txns, loadStartMicros, fromMicros),
                PgbenchLog.window(txns, fromMicros, toMicros), suppressed);
    }

    private static long epochMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }

    /** The second baseline: one bulk UPDATE of the whole table under the same load as the backfills, sync running. */
    private BulkUnderLoad bulkUnderLoad(Database db, CdcBridge bridge, Pgbench bench, ServerCpu cpu, ApplyLagProbe probe,
                                        int rate) throws Exception {
        String name = "bulk UPDATE under the same load, shapeshift sync running, origin filter on, -R " + rate;
        Loaded<double[]> l = underLoad(name, bench, cpu, probe, bridge, rate, () -> bulkUpdate(db));
        long wrong = runs.wrongRowsAfterCatchUp(db);
        runs.phases.add(SyncRuns.withWrongRows(l.phase(), wrong));
        BulkUnderLoad b = new BulkUnderLoad(l.seconds(), (int) l.value()[1], l.appBefore(), l.appDuring(),
                l.phase().probeP99Ms(), l.echoEventsDecoded(), wrong);
        out.printf(Locale.ROOT, "%-45s %.1f s (%d attempt(s))  pgbench during: %.0f tps, latency p99 %s ms (before: %.0f tps, "
                        + "p99 %s ms), failed %d  probe p99 %s ms  echo events decoded %.0f  wrong rows %d%n", name, b.seconds(), b.attempts(),
                b.appDuring().tps(), SyncRuns.fmt(b.appDuring().latencyP99Ms()), b.appBefore().tps(),
                SyncRuns.fmt(b.appBefore().latencyP99Ms()), b.appDuring().failed(), SyncRuns.fmt(b.probeP99DuringMs()),
                b.echoEventsDecoded(), wrong);
        return b;
    }

    /** One backfill of every chunk, under pgbench at {@code rate} from before its start until after its end. */
    private BackfillDuring backfillUnderLoad(Database db, String bootstrap, CdcBridge bridge, Pgbench bench, ServerCpu cpu,
                                             ApplyLagProbe probe, int rate, boolean filter, Phase quiet) throws Exception {
        String name = "shapeshift sync DURING in-place backfill, origin filter " + (filter ? "on" : "off (echo mark)")
                + ", -R " + rate;
        long[] peakLag = {0};
        java.util.Set<String> reasons = new java.util.TreeSet<>();
        Loaded<Long> l = underLoad(name, bench, cpu, probe, bridge, rate, () -> {
            try (Connection c = db.connect("bench")) {
                c.setAutoCommit(true);
                long rows = replan(db, bootstrap, c);
                while (true) {
                    long[] t = chunkTotals(c);
                    if (t[2] > 0) {
                        throw new IllegalStateException("bench: " + t[2] + " chunks failed; see the log");
                    }
                    if (t[1] == t[0]) {
                        return rows;
                    }
                    peakLag[0] = Math.max(peakLag[0], slotLag(c));
                    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT DISTINCT regexp_replace("
                            + "throttle_reason, '[0-9.]+', '#', 'g') FROM shapeshift.chunk WHERE migration = '" + MIGRATION
                            + "' AND throttle_reason IS NOT NULL")) {
                        while (rs.next()) {
                            reasons.add(rs.getString(1));
                        }
                    }
                    Thread.sleep(100);
                }
            }
        });
        double seconds = l.seconds();
        long rows = l.value();
        double suppressed = l.echoEventsDecoded();
        Phase p = l.phase();
        long wrong = runs.wrongRowsAfterCatchUp(db);
        runs.phases.add(SyncRuns.withWrongRows(p, wrong));
        Double p99 = p.probeP99Ms();
        BackfillDuring b = new BackfillDuring(filter, bridge.metrics().originNone(), rows, seconds, rows / seconds,
                bulkSeconds / seconds, quiet.probeP99Ms(), p99, p99 == null || quiet.probeP99Ms() == null ? null
                : p99 / quiet.probeP99Ms(), p.probeP50Ms(), p.probeMaxMs(), p.probes(), suppressed, peakLag[0],
                reasons.isEmpty() ? "none" : String.join(", ", reasons), wrong,
                bulkUnderLoad == null ? null : bulkUnderLoad.seconds() / seconds, l.appBefore(), l.appDuring());
        out.printf(Locale.ROOT, "%-45s backfill %,d rows in %.1f s (%.2f x bulk)  probe p50 %s / p99 %s ms (no backfill "
                        + "p99 %s ms: %.2f x)  echo events decoded %.0f  peak slot lag %,d B  throttle %s  wrong rows %d%n",
                name, rows, seconds, b.ratioToBulk(), SyncRuns.fmt(p.probeP50Ms()), SyncRuns.fmt(p99), SyncRuns.fmt(quiet.probeP99Ms()),
                b.p99Ratio() == null ? Double.NaN : b.p99Ratio(), suppressed, peakLag[0], b.throttleReasons(), wrong);
        out.printf(Locale.ROOT, "%-45s ÷ bulk UPDATE under load %s  pgbench during: %.0f tps, latency p99 %s ms (before: "
                        + "%.0f tps, p99 %s ms), failed %d%n", "", b.ratioToBulkUnderLoad() == null ? "–"
                        : String.format(Locale.ROOT, "%.2f", b.ratioToBulkUnderLoad()), b.appDuring().tps(),
                SyncRuns.fmt(b.appDuring().latencyP99Ms()), b.appBefore().tps(), SyncRuns.fmt(b.appBefore().latencyP99Ms()),
                b.appDuring().failed());
        return b;
    }

    /**
     * Sets the new column back to NULL and rewrites the table, in a session under a backfill
     * replication origin (and with the echo mark): with the bridge's origin filter on, the reset is
     * never decoded. Then VACUUM FULL ANALYZE and a CHECKPOINT, so every backfill starts alike.
     */
    private static void resetNewColumn(Database db) throws Exception {
        try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
            if (dev.shapeshift.refresh.BackfillOrigin.attach(c) == null) {
                throw new IllegalStateException("bench: could not set up a replication origin for the reset");
            }
            c.setAutoCommit(false);
            dev.shapeshift.refresh.WorkerTransactions.emitEchoMark(c, MIGRATION);
            s.execute("UPDATE pgbench_accounts SET abalance_cents = NULL WHERE aid <> 0");
            c.commit();
            c.setAutoCommit(true);
            dev.shapeshift.refresh.BackfillOrigin.detach(c);
            s.execute("VACUUM (FULL, ANALYZE) pgbench_accounts");
            s.execute("CHECKPOINT");
        }
    }

    /**
     * One bulk UPDATE of the whole table (under a replication origin: not decoded), then reset by
     * the caller. Under the load it can be chosen as a deadlock's victim (it locks every row,
     * pgbench's transactions lock an account and then a teller and a branch): it is then run again,
     * as a team would. Returns {seconds, attempts}; the seconds include every attempt.
     */
    private static double[] bulkUpdate(Database db) throws Exception {
        long t0 = System.nanoTime();
        try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
            if (dev.shapeshift.refresh.BackfillOrigin.attach(c) == null) {
                throw new IllegalStateException("bench: could not set up a replication origin for the bulk UPDATE");
            }
            for (int attempt = 1; ; attempt++) {
                c.setAutoCommit(false);
                try {
                    dev.shapeshift.refresh.WorkerTransactions.emitEchoMark(c, MIGRATION);
                    s.executeUpdate("UPDATE pgbench_accounts SET abalance_cents = abalance::bigint * 100 WHERE aid <> 0");
                    c.commit();
                    c.setAutoCommit(true);
                    dev.shapeshift.refresh.BackfillOrigin.detach(c);
                    return new double[] {(System.nanoTime() - t0) / 1e9, attempt};
                } catch (java.sql.SQLException e) {
                    c.rollback();
                    c.setAutoCommit(true);
                    if (!dev.shapeshift.db.SqlStates.isTransient(e) || attempt >= 10) {
                        throw e;
                    }
                    log.info("bench: bulk UPDATE attempt {} failed (sqlstate {}), running it again", attempt, e.getSQLState());
                }
            }
        }
    }

    /** Makes every chunk of the coordinator's plan pending again and publishes its tasks; returns the rows to backfill. */
    private long replan(Database db, String bootstrap, Connection c) throws Exception {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE shapeshift.chunk SET status = 'pending', owner = NULL, last_key = NULL, rows_copied = 0, "
                    + "rows_written = 0, attempts = 0, heartbeat_at = NULL, resumed_from = NULL, error = NULL, "
                    + "started_at = NULL, finished_at = NULL, throttle_reason = NULL, throttled_since = NULL "
                    + "WHERE migration = '" + MIGRATION + "'");
            s.executeUpdate("DELETE FROM shapeshift.backfill_vacuum WHERE migration = '" + MIGRATION + "'");
        }
        long rows;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM pgbench_accounts "
                + "WHERE abalance_cents IS NULL")) {
            rs.next();
            rows = rs.getLong(1);
        }
        var store = new dev.shapeshift.catalog.ChunkStore(new Catalog(db, "bench"));
        new dev.shapeshift.coordinator.plan.ChunkPublisher(bootstrap, o.partitions()).publish(MIGRATION, store.chunks(MIGRATION));
        return rows;
    }

    /** Chunks, done, failed. */
    private static long[] chunkTotals(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*), count(*) FILTER (WHERE "
                + "status = 'done'), count(*) FILTER (WHERE status = 'failed') FROM shapeshift.chunk WHERE migration = '"
                + MIGRATION + "'")) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)};
        }
    }

    /** WAL the bench's slot has not confirmed yet. */
    private static long slotLag(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT coalesce(max(pg_wal_lsn_diff("
                + "pg_current_wal_lsn(), confirmed_flush_lsn)), 0)::bigint FROM pg_replication_slots WHERE slot_type = 'logical'")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
