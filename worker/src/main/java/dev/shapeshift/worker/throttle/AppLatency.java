package dev.shapeshift.worker.throttle;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.Knob;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application-latency signals of one migration's throttle ({@code max-app-latency-ms} and
 * {@code max-app-latency-pct}, docs/throttling.md): others' statements from {@code
 * pg_stat_statements}, their mean time since the previous look, and for the % cap the mean over
 * {@link #CAP_WINDOW} against a baseline that is either the knob {@code app-latency-baseline-us} or
 * measured here before the backfill copies. Called by {@link SignalCollector} under its lock.
 */
final class AppLatency {
    private static final Logger log = LoggerFactory.getLogger(AppLatency.class);
    /** How long the % cap's baseline is measured, with no worker copying. */
    static final Duration BASELINE_WINDOW = Duration.ofSeconds(5);
    /** The window the % cap averages the application's statement time over. */
    static final Duration CAP_WINDOW = Duration.ofSeconds(10);

    /** One look: mean ms per statement of others since the previous look (null: none), and the % cap's signals. */
    record Look(Double perLook, Signals.LatencyCap cap) {
    }

    private final Catalog catalog;
    private final String migration;
    /** Totals of others' statements at the previous look (pg_stat_statements): calls, ms. */
    private double[] appTotals;
    private String appLatencyProblem;
    /** Looks at others' statements for the % cap's window: nanoTime, calls, ms. */
    private final Deque<double[]> capSamples = new ArrayDeque<>();
    /** The look the baseline is measured from; null when not measuring. */
    private double[] baselineFrom;
    /** A measured baseline the catalog would not store (kept for this worker only), µs; 0 = none. */
    private long unstoredBaselineUs;

    AppLatency(Catalog catalog, String migration) {
        this.catalog = catalog;
        this.migration = migration;
    }

    /** Looks at others' statements when either knob is set ({@code maxLatency}, {@code maxPct}; 0 = off). */
    Look look(Connection c, long maxLatency, long maxPct, Map<String, String> settings) {
        double[] totals = maxLatency > 0 || maxPct > 0 ? appTotals(c) : null;
        Double perLook = maxLatency > 0 ? sinceLastLook(totals) : null;
        appTotals = totals;
        Signals.LatencyCap latencyCap = maxPct > 0 ? latencyCap(maxPct, settings, totals) : Signals.LatencyCap.OFF;
        if (maxPct == 0) {
            capSamples.clear();
            baselineFrom = null;
        }
        return new Look(perLook, latencyCap);
    }

    /**
     * Totals of the statements of roles other than Shapeshift's, from {@code pg_stat_statements}
     * (this database): the look's nanoTime, calls, total execution ms. Shapeshift's roles: this
     * session's, and any role that may update {@code shapeshift.migration} (the coordinator's, the
     * workers', the bridge's; a superuser counts as one — run the application under its own role).
     * Null when the view cannot be read (logged once).
     */
    private double[] appTotals(Connection c) {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(s.calls), 0)::float8, "
                + "coalesce(sum(s.total_exec_time), 0)::float8 FROM pg_stat_statements s "
                + "JOIN pg_roles r ON r.oid = s.userid WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = "
                + "current_database()) AND r.rolname <> current_user AND NOT r.rolsuper "
                + "AND NOT has_table_privilege(r.oid, 'shapeshift.migration', 'UPDATE')");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            double[] now = {System.nanoTime(), rs.getDouble(1), rs.getDouble(2)};
            appLatencyProblem = null;
            return now;
        } catch (SQLException e) {
            if (appLatencyProblem == null) {
                log.warn("max-app-latency-ms or max-app-latency-pct is set but pg_stat_statements cannot be read, "
                        + "the knob has no effect migration={} error={}", migration, e.getMessage());
            }
            appLatencyProblem = e.getMessage();
            SignalCollector.rollbackQuietly(c);
            return null;
        }
    }

    /**
     * Mean milliseconds per statement of others since the previous look. Null at the first look,
     * when no statement of others finished since, or when the view cannot be read.
     */
    private Double sinceLastLook(double[] now) {
        return meanMs(appTotals, now);
    }

    /** Mean ms per statement between two looks; null without a finished statement between them (or a reset). */
    private static Double meanMs(double[] before, double[] now) {
        if (before == null || now == null || now[1] < before[1] || now[1] - before[1] < 1) {
            return null;
        }
        return (now[2] - before[2]) / (now[1] - before[1]);
    }

    /**
     * The % cap's signals. The baseline is the knob {@code app-latency-baseline-us} when set; else
     * it is measured here over {@link #BASELINE_WINDOW} from the first look with the cap on —
     * every worker waits while it has no baseline, so no worker copies in that time — and stored
     * in the catalog for every worker (audited). The latency compared with it is the mean over the
     * last {@link #CAP_WINDOW}, so the time the backfill waits counts as well as the time it
     * copies: the cap holds the application's mean over the run, not only at its quietest second.
     */
    private Signals.LatencyCap latencyCap(long maxPct, Map<String, String> settings, double[] now) {
        if (now == null) {
            return new Signals.LatencyCap(maxPct, null, false, null);
        }
        if (!capSamples.isEmpty() && now[1] < capSamples.peekLast()[1]) {
            capSamples.clear(); // pg_stat_statements was reset
        }
        capSamples.addLast(now);
        while (capSamples.size() > 1 && now[0] - capSamples.peekFirst()[0] > CAP_WINDOW.toNanos()) {
            capSamples.removeFirst();
        }
        Double window = meanMs(capSamples.peekFirst(), now);
        long baselineUs = Knob.APP_LATENCY_BASELINE_US.whole(settings, 0);
        if (baselineUs <= 0) {
            baselineUs = unstoredBaselineUs;
        }
        if (baselineUs > 0) {
            baselineFrom = null;
            return new Signals.LatencyCap(maxPct, baselineUs / 1000.0, false, window);
        }
        if (baselineFrom == null || now[1] < baselineFrom[1]) {
            baselineFrom = now;
        }
        Double measured = meanMs(baselineFrom, now);
        double seconds = (now[0] - baselineFrom[0]) / 1e9;
        if (measured == null || seconds < BASELINE_WINDOW.toNanos() / 1e9) {
            return new Signals.LatencyCap(maxPct, null, true, null);
        }
        long us = Math.max(1, Math.round(measured * 1000));
        String why = String.format(Locale.ROOT, "measured before the backfill copied: %.0f statements of the application "
                + "in %.1f s, %.3f ms each", now[1] - baselineFrom[1], seconds, measured);
        try {
            catalog.putSetting(migration, Knob.APP_LATENCY_BASELINE_US.key(), Long.toString(us), "shapeshift-worker",
                    why);
        } catch (RuntimeException e) {
            log.warn("could not store the measured {}={}, this worker keeps it migration={} error={}",
                    Knob.APP_LATENCY_BASELINE_US.key(), us, migration, e.toString());
            unstoredBaselineUs = us;
        }
        log.info("application statement baseline {}={} ({}) migration={}", Knob.APP_LATENCY_BASELINE_US.key(), us, why,
                migration);
        baselineFrom = null;
        return new Signals.LatencyCap(maxPct, us / 1000.0, false, window);
    }
}
