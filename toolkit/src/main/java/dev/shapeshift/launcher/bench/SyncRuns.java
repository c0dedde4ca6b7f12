package dev.shapeshift.launcher.bench;

import static dev.shapeshift.launcher.bench.SyncBench.MIGRATION;
import static dev.shapeshift.launcher.bench.SyncBench.TARGET;

import dev.shapeshift.db.Database;
import dev.shapeshift.launcher.bench.SyncBench.Options;
import dev.shapeshift.launcher.bench.SyncBench.Phase;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.nio.file.Path;
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
 * The pgbench runner of {@link SyncBench}: warm-ups and timed pgbench runs, each recorded as a
 * {@link Phase} with the probe's lag, the sync's timer and the CPU the servers and this JVM used,
 * and the independent count of wrong rows after a run.
 */
final class SyncRuns {
    private static final Logger log = LoggerFactory.getLogger(SyncBench.class);

    private final Options o;
    private final PrintStream out;
    /** Every timed run so far, in order. */
    final List<Phase> phases = new ArrayList<>();

    SyncRuns(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
    }

    /** Records the rows found wrong after the last run's catch-up on that run. */
    void wrongRows(long wrong) {
        Phase last = phases.remove(phases.size() - 1);
        phases.add(withWrongRows(last, wrong));
    }

    /**
     * The independent check, written here and not taken from the code under test: rows whose new
     * shape differs from transform(source). Polled until 0 for up to 15 s after the load, so a row
     * still in flight is not counted; a change the sync lost stays wrong.
     */
    long wrongRowsAfterCatchUp(Database db) throws Exception {
        return wrongRowsAfterCatchUp(db, o.inPlace()
                ? "SELECT count(*) FROM pgbench_accounts WHERE abalance_cents IS DISTINCT FROM abalance::bigint * 100"
                : "SELECT count(*) FROM pgbench_accounts a FULL JOIN " + TARGET + " t USING (aid) WHERE a.aid IS NULL "
                        + "OR t.aid IS NULL OR t.balance_cents IS DISTINCT FROM a.abalance::bigint * 100 "
                        + "OR t.bid IS DISTINCT FROM a.bid");
    }

    /** Polls {@code sql} (a count of wrong rows) for up to 15 s until it is zero: the probe row keeps being written. */
    static long wrongRowsAfterCatchUp(Database db, String sql) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            long wrong;
            try (Connection c = db.connect("bench"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                wrong = rs.getLong(1);
            }
            if (wrong == 0 || System.nanoTime() > deadline) {
                return wrong;
            }
            Thread.sleep(1000);
        }
    }

    static Phase withWrongRows(Phase p, long wrong) {
        return new Phase(p.name(), p.replication(), p.rate(), p.pgbench(), p.probes(), p.probeP50Ms(), p.probeP99Ms(),
                p.probeMaxMs(), p.probesNotArrived(), p.timerP50Ms(), p.timerP99Ms(), p.timerCount(), p.sourceCpuSeconds(),
                p.subscriberCpuSeconds(), p.jvmCpuSeconds(), p.loadStart(), p.loadEnd(), wrong);
    }

    /** An untimed pgbench run at the rate before each configuration's first measured run (JIT, caches, slot start). */
    void warmUp(Pgbench bench, int rate) throws Exception {
        int seconds = Math.min(10, o.seconds());
        bench.run(o.clients(), o.threads(), seconds, rate);
        out.printf(Locale.ROOT, "(warm-up: %d s at -R %d, not recorded)%n", seconds, rate);
    }

    Phase measureScript(Pgbench bench, ServerCpu cpu, ApplyLagProbe probe, String name, int rate,
                                PrometheusMeterRegistry registry, Path script) throws Exception {
        return measure(bench, cpu, null, probe, name, "shapeshift", rate, registry, script);
    }

    Phase measure(Pgbench bench, ServerCpu cpu, ServerCpu subCpu, ApplyLagProbe probe, String name,
                          String replication, int rate, PrometheusMeterRegistry registry) throws Exception {
        return measure(bench, cpu, subCpu, probe, name, replication, rate, registry, null);
    }

    Phase measure(Pgbench bench, ServerCpu cpu, ServerCpu subCpu, ApplyLagProbe probe, String name,
                          String replication, int rate, PrometheusMeterRegistry registry, Path script) throws Exception {
        String loadStart = Machine.loadAverage();
        double src0 = cpu.serverSeconds();
        double sub0 = subCpu == null ? 0 : subCpu.serverSeconds();
        double jvm0 = ServerCpu.jvmSeconds();
        probe.take();
        Pgbench.Result r = bench.run(o.clients(), o.threads(), o.seconds(), rate, script);
        double src = cpu.serverSeconds() - src0;
        double subS = subCpu == null ? 0 : subCpu.serverSeconds() - sub0;
        double jvm = ServerCpu.jvmSeconds() - jvm0;
        String loadEnd = Machine.loadAverage();
        if (!"none".equals(replication)) {
            probe.awaitCaughtUp(Duration.ofSeconds(30));
        }
        ApplyLagProbe.Snapshot snap = probe.take();
        Double[] timer = timer(registry);
        Phase p = new Phase(name, replication, rate, r, snap.lags().count(), snap.lags().percentile(50),
                snap.lags().percentile(99), snap.lags().percentile(100), snap.notArrived(), timer[0], timer[1],
                timer[2] == null ? null : timer[2].longValue(), src, subS, jvm, loadStart, loadEnd, null);
        phases.add(p);
        out.printf(Locale.ROOT, "%-45s tps %8.1f  latency avg %s ms  probe lag p50 %s / p99 %s ms (%d probes)%s  load %s%n",
                name, r.tps(), fmt(r.latencyAvgMs()), fmt(p.probeP50Ms()), fmt(p.probeP99Ms()), p.probes(),
                timer[0] == null ? "" : String.format(Locale.ROOT, "  timer p50 %s / p99 %s ms", fmt(timer[0]), fmt(timer[1])),
                loadEnd);
        log.info("bench sync phase=\"{}\" tps={} probes={} probe_p50_ms={} probe_p99_ms={} timer_p50_ms={} timer_p99_ms={}",
                name, r.tps(), p.probes(), p.probeP50Ms(), p.probeP99Ms(), timer[0], timer[1]);
        return p;
    }

    /** p50, p99 and count of {@code shapeshift.sync.apply.latency} (as DemoMetrics.latency reads it). */
    static Double[] timer(PrometheusMeterRegistry registry) {
        if (registry == null) {
            return new Double[] {null, null, null};
        }
        Timer t = registry.find("shapeshift.sync.apply.latency").tag("migration", MIGRATION).timer();
        if (t == null || t.count() == 0) {
            return new Double[] {null, null, 0.0};
        }
        Double p50 = dev.shapeshift.worker.sync.SyncMetrics.applyLatencyMillis(registry, MIGRATION, 0.5);
        Double p99 = dev.shapeshift.worker.sync.SyncMetrics.applyLatencyMillis(registry, MIGRATION, 0.99);
        return new Double[] {p50, p99, (double) t.count()};
    }

    static String fmt(Double d) {
        return d == null ? "–" : String.format(Locale.ROOT, "%.0f", d);
    }
}
