package dev.shapeshift.worker.backfill;

import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.error.ShapeshiftException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs the one-line backfill status every few seconds, computed from the catalog:
 * {@code backfill migration=users chunks=12/40 rows=120000 rate=35000/s eta=7s throttle="none"}.
 */
public final class ProgressReporter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProgressReporter.class);

    private final ChunkStore store;
    private final String migration;
    private final Supplier<String> throttle;
    private final ScheduledExecutorService timer;
    private BackfillProgress.Sample previous;
    private volatile BackfillProgress latest;

    public ProgressReporter(ChunkStore store, String migration, Supplier<String> throttle, Duration every) {
        this.store = store;
        this.migration = migration;
        this.throttle = throttle;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "backfill-status-" + migration);
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::report, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The last progress logged, or null before the first. */
    public BackfillProgress latest() {
        return latest;
    }

    private synchronized void report() {
        try {
            BackfillProgress.Sample now = new BackfillProgress.Sample(store.totals(migration), Instant.now());
            latest = BackfillProgress.of(migration, now, previous, throttle.get());
            previous = now;
            log.info(latest.statusLine());
        } catch (ShapeshiftException e) {
            log.warn("backfill status unavailable migration={} error={}", migration, e.getMessage());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
