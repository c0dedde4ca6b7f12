package dev.shapeshift.coordinator.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.StreamState;
import dev.shapeshift.catalog.SyncStream;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CatchUpProbeTest {
    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");

    private static SyncStream stream(int partition, StreamState state, String lsn) {
        return new SyncStream("users", partition, "w" + partition, 3, state, lsn == null ? null : 10L, lsn, NOW, NOW,
                null, null, NOW);
    }

    @Test
    void caughtUpOnlyWhenEveryPartitionAppliedAtOrPastThePosition() {
        long wanted = CatchUpProbe.position("0/16B3748");
        List<SyncStream> all = List.of(stream(0, StreamState.RUNNING, "0/16B3748"),
                stream(1, StreamState.RUNNING, "0/16B4000"), stream(2, StreamState.RUNNING, "1/0"));
        assertThat(CatchUpProbe.behind(all, wanted)).isEmpty();

        List<SyncStream> oneBehind = List.of(stream(0, StreamState.RUNNING, "0/16B3747"),
                stream(1, StreamState.CATCHING_UP, null), stream(2, StreamState.STOPPED_POISON, "1/0"));
        assertThat(CatchUpProbe.behind(oneBehind, wanted)).containsExactly(
                "partition 0 (worker w0, RUNNING) applied up to 0/16B3747",
                "partition 1 (worker w1, CATCHING_UP) applied up to nothing yet",
                "partition 2 is STOPPED_POISON");
    }

    @Test
    void aPartitionWithoutAStreamOrNoStreamAtAllIsNotCaughtUp() {
        long wanted = CatchUpProbe.position("0/10");
        assertThat(CatchUpProbe.behind(List.of(stream(0, StreamState.RUNNING, "0/20"),
                stream(2, StreamState.RUNNING, "0/20")), wanted))
                .containsExactly("partitions [1] of 3 have no sync stream: no worker has consumed them");
        assertThat(CatchUpProbe.behind(List.of(), wanted)).singleElement().asString().contains("no sync stream recorded");
    }

    @Test
    void lsnPositionsCompareAsNumbers() {
        assertThat(CatchUpProbe.position("1/0")).isGreaterThan(CatchUpProbe.position("0/FFFFFFFF"));
        assertThat(CatchUpProbe.position("0/A")).isEqualTo(10L);
    }
}
