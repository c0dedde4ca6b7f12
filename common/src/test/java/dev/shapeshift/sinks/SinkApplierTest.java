package dev.shapeshift.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.sink.PermanentSinkException;
import dev.shapeshift.sink.RetryPolicy;
import dev.shapeshift.sink.SettingProblem;
import dev.shapeshift.sink.Sink;
import dev.shapeshift.sink.SinkContext;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkProvider;
import dev.shapeshift.sink.SinkRow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The applier's rules: the version rule kept by the sink, bounded retries, permanent failures narrowed to their rows. */
class SinkApplierTest {

    private static SinkApplier applier(SinkProvider provider, Map<String, String> settings) {
        return new SinkApplier(provider, new SinkContext("m", List.of("id"), List.of(), settings),
                SinkApplier.Listener.NONE, () -> false);
    }

    private static List<SinkRow> rows(int n, long version) {
        return IntStream.range(0, n).mapToObj(i -> SinkRow.upsert(SinkKey.of(Integer.toString(i)), version,
                Map.of("v", "x" + version))).toList();
    }

    @Test
    void anOlderOrEqualVersionNeverReplacesWhatTheSinkHolds() {
        MemorySink.Store store = MemorySink.store("applier-versions");
        try (SinkApplier a = applier(new MemorySinkProvider(), Map.of("store", "applier-versions"))) {
            a.apply(rows(3, 10));
            a.apply(List.of(SinkRow.tombstone(SinkKey.of("0"), 12)));
            a.apply(rows(3, 11)); // late: 0 stays deleted, 1 and 2 move to 11
            a.apply(rows(3, 11)); // a replay changes nothing
        }
        assertThat(store.snapshot().get(SinkKey.of("0")).isTombstone()).isTrue();
        assertThat(store.snapshot().get(SinkKey.of("1")).version()).isEqualTo(11);
        assertThat(store.skippedOlder.get()).isEqualTo(4);
    }

    @Test
    void retryableFailuresAreRetriedPerThePolicyThenReportedUnavailable() {
        MemorySink.Store store = MemorySink.store("applier-down");
        store.down = true;
        try (SinkApplier a = applier(new MemorySinkProvider(), Map.of("store", "applier-down", "maxAttempts", "4",
                "backoff", "1"))) {
            assertThatThrownBy(() -> a.apply(rows(2, 1))).isInstanceOfSatisfying(ShapeshiftException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.SINK_UNAVAILABLE);
                assertThat(e.retryable()).isTrue();
                assertThat(e.getMessage()).isEqualTo("sink 'memory' failed 4 attempts to apply: "
                        + "memory sink: connection refused (store is down)");
            });
            assertThat(store.failedCalls.get()).isEqualTo(4);
            store.down = false;
            assertThat(a.apply(rows(2, 1)).applied()).isEqualTo(2);
        }
    }

    @Test
    void aPermanentFailureNamingItsKeysRefusesOnlyThose() {
        MemorySink.Store store = MemorySink.store("applier-poison");
        store.poison.add(SinkKey.of("3"));
        try (SinkApplier a = applier(new MemorySinkProvider(), Map.of("store", "applier-poison"))) {
            SinkApplier.Outcome o = a.apply(rows(6, 1));
            assertThat(o.refused()).containsOnlyKeys(SinkKey.of("3"));
            assertThat(o.applied()).isEqualTo(5);
        }
        assertThat(store.live()).hasSize(5).doesNotContainKey(SinkKey.of("3"));
    }

    /** A sink that refuses any call containing key 5 without saying which row: found by bisecting. */
    @Test
    void aPermanentFailureWithoutKeysIsBisectedDownToItsRow() {
        List<SinkRow> applied = new ArrayList<>();
        SinkProvider picky = new Fake(new Sink() {
            @Override
            public void apply(List<SinkRow> rows) throws PermanentSinkException {
                if (rows.stream().anyMatch(r -> r.key().equals(SinkKey.of("5")))) {
                    throw new PermanentSinkException("document rejected");
                }
                applied.addAll(rows);
            }

            @Override
            public List<SinkRow> read(List<SinkKey> keys) {
                return List.of();
            }

            @Override
            public void close() {
            }
        });
        try (SinkApplier a = applier(picky, Map.of())) {
            SinkApplier.Outcome o = a.apply(rows(8, 1));
            assertThat(o.refused()).isEqualTo(Map.of(SinkKey.of("5"), "document rejected"));
            assertThat(o.applied()).isEqualTo(7);
        }
        assertThat(applied).hasSize(7);
    }

    @Test
    void theBackoffGrowsToItsCap() {
        RetryPolicy p = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofMillis(350), 2.0);
        assertThat(List.of(p.backoff(1), p.backoff(2), p.backoff(3), p.backoff(4)))
                .containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(350), Duration.ofMillis(350));
        assertThatThrownBy(() -> new RetryPolicy(0, Duration.ofMillis(1), Duration.ofMillis(1), 1))
                .hasMessageContaining("maxAttempts must be at least 1");
    }

    private record Fake(Sink sink) implements SinkProvider {
        @Override
        public String name() {
            return "fake";
        }

        @Override
        public List<SettingProblem> validate(Map<String, String> settings) {
            return List.of();
        }

        @Override
        public Sink create(SinkContext context) {
            return sink;
        }
    }
}
