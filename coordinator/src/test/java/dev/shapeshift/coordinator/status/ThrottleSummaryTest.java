package dev.shapeshift.coordinator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.ChunkStore.Throttled;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ThrottleSummaryTest {
    private static MigrationStatus.Progress progress(List<Throttled> throttled) {
        return new MigrationStatus.Progress(10, 4, 3, 0, 400, 1000, 0, null, throttled);
    }

    @Test
    void reasonsOfOneKindWithOtherFiguresAreOneReason() {
        Instant now = Instant.parse("2026-12-06T02:00:40Z");
        String s = progress(List.of(new Throttled(4, "w1", "slot lag 73.6 MB", Instant.parse("2026-12-06T02:00:00Z")),
                new Throttled(5, "w2", "slot lag 64.5 MB", Instant.parse("2026-12-06T02:00:10Z")),
                new Throttled(6, "w2", "lock timeouts 6 in last 10s", Instant.parse("2026-12-06T02:00:20Z"))))
                .throttleSummary(now);
        assertThat(s).isEqualTo("throttled: slot lag 73.6 MB (2 of 3 running chunk(s), w1 w2, for 40s); other reasons on 1 chunk(s)");
    }

    @Test
    void nothingThrottledIsNoSummary() {
        assertThat(progress(List.of()).throttleSummary(Instant.now())).isNull();
    }
}
