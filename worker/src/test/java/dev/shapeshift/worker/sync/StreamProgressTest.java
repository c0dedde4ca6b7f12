package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.change.ChangeEvent;
import dev.shapeshift.refresh.Key;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class StreamProgressTest {
    private static final TopicPartition P0 = new TopicPartition("shapeshift.m.changes", 0);
    private static final TopicPartition P1 = new TopicPartition("shapeshift.m.changes", 1);

    private static ChangeEvent change(long lsn, long ts) {
        return new ChangeEvent("m", new Key(List.of("1")), 'u', lsn, ts, 7L);
    }

    private static ChangeEvent heartbeat(long lsn, long ts) {
        return new ChangeEvent("m", null, 'h', lsn, ts, 0L);
    }

    @Test
    void thePositionOfAPartitionIsItsNewestRecordBeforeTheCommittedOffsetHeartbeatsIncluded() {
        StreamProgress p = new StreamProgress();
        p.add(P0, 10, change(100, 1_000));
        p.add(P0, 11, heartbeat(180, 1_900));
        p.add(P0, 12, change(200, 2_000)); // after a poison stop at 12: not applied
        p.add(P1, 5, change(150, 1_500));
        Map<TopicPartition, StreamProgress.Position> at = p.upTo(Map.of(P0, new OffsetAndMetadata(12),
                P1, new OffsetAndMetadata(6)));
        assertThat(at.get(P0)).isEqualTo(new StreamProgress.Position(11, 180, 1_900));
        assertThat(at.get(P1)).isEqualTo(new StreamProgress.Position(5, 150, 1_500));
    }

    @Test
    void aPartitionStoppedAtItsFirstRecordHasNoPosition() {
        StreamProgress p = new StreamProgress();
        for (int i = 0; i < 100; i++) {
            p.add(P0, 40 + i, change(1000 + i, 5_000 + i)); // grows past the first array
        }
        assertThat(p.upTo(Map.of(P0, new OffsetAndMetadata(40)))).isEmpty();
        assertThat(p.upTo(Map.of(P0, new OffsetAndMetadata(140))).get(P0))
                .isEqualTo(new StreamProgress.Position(139, 1099, 5_099));
    }
}
