package dev.shapeshift.worker.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.ChunkStore.Totals;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class BackfillProgressTest {
    private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

    @Test
    void rateFromTwoSamplesAndEtaFromTheEstimate() {
        var before = new BackfillProgress.Sample(new Totals(40, 10, 3, 0, 100_000, 90_000, 400_000, T0), T0.plusSeconds(10));
        var now = new BackfillProgress.Sample(new Totals(40, 12, 3, 0, 120_000, 100_000, 400_000, T0), T0.plusSeconds(12));
        BackfillProgress p = BackfillProgress.of("users", now, before, "rate cap 500 rows/s");
        assertThat(p.rowsPerSecond()).isEqualTo(10_000.0);
        assertThat(p.eta()).isEqualTo(Duration.ofSeconds(28));
        assertThat(p.statusLine()).isEqualTo(
                "backfill migration=users chunks=12/40 rows=120000 rate=10000/s eta=28s throttle=\"rate cap 500 rows/s\"");
    }

    @Test
    void withOneSampleTheRateIsTheAverageSinceTheFirstChunkStarted() {
        var now = new BackfillProgress.Sample(new Totals(4, 1, 1, 0, 5_000, 5_000, 20_000, T0), T0.plusSeconds(5));
        BackfillProgress p = BackfillProgress.of("m", now, null, "none");
        assertThat(p.rowsPerSecond()).isEqualTo(1000.0);
        assertThat(p.eta()).isEqualTo(Duration.ofSeconds(15));
    }

    @Test
    void doneMeansNoEtaLeftAndNoRateMeansUnknown() {
        var done = new BackfillProgress.Sample(new Totals(4, 4, 0, 0, 20_000, 20_000, 20_000, T0), T0.plusSeconds(5));
        assertThat(BackfillProgress.of("m", done, null, "none").eta()).isEqualTo(Duration.ZERO);
        assertThat(BackfillProgress.of("m", done, null, "none").complete()).isTrue();
        var idle = new BackfillProgress.Sample(new Totals(4, 0, 0, 0, 0, 0, 20_000, null), T0);
        assertThat(BackfillProgress.of("m", idle, null, "none").statusLine()).contains("eta=?");
    }
}
