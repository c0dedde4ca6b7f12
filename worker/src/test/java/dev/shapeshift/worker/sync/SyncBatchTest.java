package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.change.ChangeEvent;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyncBatchTest {

    @Test
    void heartbeatsAreNotRefreshedAndNotCountedAsAppliedChanges() {
        SyncBatch b = new SyncBatch();
        b.add(new ChangeEvent("m", Key.of(1), 'u', 10, 1_000, 7));
        b.add(new ChangeEvent("m", Key.of(1), 'u', 11, 2_000, 8));
        b.add(new ChangeEvent("m", null, 'h', 12, 9_000, 0));
        b.add(new ChangeEvent("m", Key.of(2), 'd', 13, 3_000, 9));
        assertThat(b.keys()).containsExactly(Key.of(1), Key.of(2));
        assertThat(b.commitTimesMicros().toArray()).containsExactly(1_000, 2_000, 3_000);
        assertThat(b.heartbeats()).isEqualTo(1);
        assertThat(b.newestCommitMicros()).as("heartbeats keep lag fresh").isEqualTo(9_000);
        assertThat(b.maxLsn()).isEqualTo(13);

        SyncMetrics metrics = new SyncMetrics(new SimpleMeterRegistry(), "m", "w");
        metrics.applied(b, 2);
        assertThat(metrics.applyLatency().count()).as("one latency sample per row change").isEqualTo(3);
        assertThat(metrics.events()).isEqualTo(3);
        assertThat(metrics.rowsWritten()).isEqualTo(2);
    }

    @Test
    void slicesBoundTheKeysPerStatement() {
        SyncBatch b = new SyncBatch();
        for (int i = 0; i < 5; i++) {
            b.add(new ChangeEvent("m", Key.of(i), 'c', i, 0, 0));
        }
        assertThat(b.slices(2)).extracting(List::size).containsExactly(2, 2, 1);
    }

    @Test
    void skipRequestsAreValidatedBeforeTheyReachTheCatalog() {
        assertThatThrownBy(() -> SyncSkip.request(null, "m", "1-25", "ops", "why"))
                .isInstanceOf(ShapeshiftException.class).hasMessageContaining("partition:offset")
                .satisfies(e -> assertThat(((ShapeshiftException) e).code()).as("a usage error").isEqualTo(ErrorCode.USAGE));
        assertThatThrownBy(() -> SyncSkip.request(null, "m", "1:25", "ops", " "))
                .isInstanceOf(ShapeshiftException.class).hasMessageContaining("--reason")
                .satisfies(e -> assertThat(((ShapeshiftException) e).code()).isEqualTo(ErrorCode.USAGE));
    }
}
