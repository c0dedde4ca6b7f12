package dev.shapeshift.worker.backfill;

import dev.shapeshift.catalog.ChunkStore.Totals;
import java.time.Duration;
import java.time.Instant;

/**
 * A migration's backfill progress, computed from the catalog. The rate is measured from two
 * samples of the catalog's rows copied (or, with one sample, averaged since the first chunk
 * started); the ETA is the plan's estimated rows still to copy at that rate.
 *
 * @param eta null when unknown (no rate yet); zero when every chunk is done
 */
public record BackfillProgress(String migration, int chunksDone, int chunks, int chunksRunning, int chunksFailed,
                               long rowsCopied, long estimatedRows, double rowsPerSecond, Duration eta,
                               String throttle) {

    /** One catalog reading and when it was taken. */
    public record Sample(Totals totals, Instant at) {
    }

    public static BackfillProgress of(String migration, Sample now, Sample previous, String throttle) {
        Totals t = now.totals();
        double rate;
        if (previous != null && now.at().isAfter(previous.at())) {
            rate = (t.rowsCopied() - previous.totals().rowsCopied()) * 1000.0
                    / Duration.between(previous.at(), now.at()).toMillis();
        } else if (t.firstStart() != null && now.at().isAfter(t.firstStart())) {
            rate = t.rowsCopied() * 1000.0 / Duration.between(t.firstStart(), now.at()).toMillis();
        } else {
            rate = 0;
        }
        rate = Math.max(0, rate);
        Duration eta;
        if (t.chunks() > 0 && t.done() == t.chunks()) {
            eta = Duration.ZERO;
        } else if (rate > 0) {
            long remaining = Math.max(0, t.estimatedRows() - t.rowsCopied());
            eta = Duration.ofSeconds((long) Math.ceil(remaining / rate));
        } else {
            eta = null;
        }
        return new BackfillProgress(migration, t.done(), t.chunks(), t.running(), t.failed(), t.rowsCopied(),
                t.estimatedRows(), rate, eta, throttle);
    }

    public boolean complete() {
        return chunks > 0 && chunksDone == chunks;
    }

    /** {@code backfill migration=users chunks=12/40 rows=120000 rate=35000/s eta=7s throttle="none"}. */
    public String statusLine() {
        return "backfill migration=" + migration + " chunks=" + chunksDone + "/" + chunks
                + (chunksFailed > 0 ? " failed=" + chunksFailed : "")
                + " rows=" + rowsCopied + " rate=" + Math.round(rowsPerSecond) + "/s eta="
                + (eta == null ? "?" : formatEta(eta)) + " throttle=\"" + throttle + "\"";
    }

    static String formatEta(Duration d) {
        long s = d.toSeconds();
        if (s < 120) {
            return s + "s";
        }
        if (s < 7200) {
            return (s / 60) + "m" + (s % 60 == 0 ? "" : (s % 60) + "s");
        }
        return (s / 3600) + "h" + ((s % 3600) / 60) + "m";
    }
}
