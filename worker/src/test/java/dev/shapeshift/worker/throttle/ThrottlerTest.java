package dev.shapeshift.worker.throttle;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ThrottlerTest {
    private static final Limits L = Limits.DEFAULT;

    private static Decision decide(Signals s) {
        return Throttler.decide(s, L, 0, Duration.ZERO);
    }

    private static Signals cap(Signals.LatencyCap cap) {
        return Signals.CALM.withLoad(new Signals.Load(0, null, 0, null, cap));
    }

    @Test
    void calmSignalsGo() {
        assertThat(decide(Signals.CALM)).isEqualTo(Decision.GO);
        assertThat(Throttler.decide(Signals.CALM, L, 10_000, Duration.ofMillis(1))).isEqualTo(Decision.GO);
    }

    @Test
    void operatorPauseWinsOverEverything() {
        Signals s = Signals.CALM.withPaused(true).withSyncBacklog(1_000_000L)
                .withReplayLag(Duration.ofSeconds(9));
        Decision d = decide(s);
        assertThat(d.reason()).isEqualTo("paused by operator");
        assertThat(d.delay()).isEqualTo(L.recheck());
    }

    @Test
    void theApplicationsLoadAboveItsCapWaitsAndAnUnsetCapOrAnUnreadSignalDoesNot() {
        Signals busy = Signals.CALM.withLoad(new Signals.Load(30, 34, 0, null));
        assertThat(decide(busy).reason()).isEqualTo("load: 34 active sessions > 30");
        assertThat(decide(busy).delay()).isEqualTo(L.recheck());
        assertThat(decide(Signals.CALM.withLoad(new Signals.Load(30, 30, 0, null))).waits()).isFalse();
        assertThat(decide(Signals.CALM.withLoad(new Signals.Load(0, 500, 0, null))).waits()).isFalse();
        assertThat(decide(Signals.CALM.withLoad(new Signals.Load(30, null, 0, null))).waits()).isFalse();

        Signals slow = Signals.CALM.withLoad(new Signals.Load(0, null, 10, 12.34));
        assertThat(decide(slow).reason()).isEqualTo("load: application statements 12.3 ms > 10 ms");
        assertThat(decide(Signals.CALM.withLoad(new Signals.Load(0, null, 10, 10.0))).waits()).isFalse();
        assertThat(decide(Signals.CALM.withLoad(new Signals.Load(0, null, 0, 99.0))).waits()).isFalse();
        assertThat(decide(Signals.CALM.withLoad(new Signals.Load(0, null, 10, null))).waits()).isFalse();

        // The % cap: waits while its baseline is measured, then while the 10 s mean is more than pct above it.
        assertThat(decide(cap(new Signals.LatencyCap(20, null, true, null))).reason())
                .isEqualTo("load: measuring the application's statement time before copying (baseline of the 20% cap)");
        assertThat(decide(cap(new Signals.LatencyCap(20, 1.0, false, 1.31))).reason())
                .isEqualTo("load: application statements 1.31 ms over 10s, +31% on 1.00 ms before the backfill > 20%");
        assertThat(decide(cap(new Signals.LatencyCap(20, 1.0, false, 1.2))).waits()).isFalse();
        assertThat(decide(cap(new Signals.LatencyCap(20, 1.0, false, null))).waits()).isFalse();
        assertThat(decide(cap(new Signals.LatencyCap(20, null, false, 9.0))).waits()).isFalse(); // unreadable: no effect
        assertThat(decide(cap(new Signals.LatencyCap(0, 1.0, false, 9.0))).waits()).isFalse();

        // Replication health comes first; the load comes before the rate cap.
        assertThat(decide(busy.withSlotLagBytes(100L << 20)).reason()).startsWith("slot lag");
        assertThat(Throttler.decide(busy.withMaxRowsPerSecond(10L)
                .withLiveWorkers(1), L, 1000, Duration.ZERO).reason()).startsWith("load:");
    }

    /** One signal at its limit (no wait) and above it (a wait, with the reason the worker shows). */
    static Stream<Arguments> signalsAboveTheirLimit() {
        return Stream.of(
                Arguments.of("sync backlog", Signals.CALM.withSyncBacklog(10_000L), Signals.CALM
                        .withSyncBacklog(12_345L),
                        "sync behind: 12345 changes"),
                Arguments.of("standby replay lag", Signals.CALM.withReplayLag(Duration.ofMillis(900)),
                        Signals.CALM
                                .withReplayLag(Duration.ofMillis(3200)), "standby replay lag 3.2s > 1.0s"),
                Arguments.of("slot lag", Signals.CALM.withSlotLagBytes(1000L),
                        Signals.CALM.withSlotLagBytes((long) (1.2 * (1L << 30))), "slot lag 1.2 GB"),
                Arguments.of("lock timeouts", Signals.CALM.withLockTimeouts(5), Signals.CALM
                        .withLockTimeouts(6),
                        "lock timeouts 6 in last 10s"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("signalsAboveTheirLimit")
    void aSignalAboveItsLimitWaitsSayingWhy(String signal, Signals within, Signals above, String reason) {
        assertThat(decide(within).waits()).isFalse();
        assertThat(decide(above).reason()).isEqualTo(reason);
    }

    @Test
    void rateCapWaitsUntilTheBatchIsPaidFor() {
        Signals capped = Signals.CALM.withMaxRowsPerSecond(500L).withLiveWorkers(1);
        Decision d = Throttler.decide(capped, L, 250, Duration.ofMillis(100));
        assertThat(d.reason()).isEqualTo("rate cap 500 rows/s");
        assertThat(d.delay()).isEqualTo(Duration.ofMillis(400));
        assertThat(Throttler.decide(capped, L, 250, Duration.ofMillis(600)).waits()).isFalse();
    }

    @Test
    void rateCapIsSharedByLiveWorkers() {
        Signals twoWorkers = Signals.CALM.withMaxRowsPerSecond(500L).withLiveWorkers(2);
        assertThat(Throttler.decide(twoWorkers, L, 250, Duration.ZERO).delay()).isEqualTo(Duration.ofSeconds(1));
        assertThat(Throttler.maxBatchRows(twoWorkers)).isEqualTo(125);
        assertThat(Throttler.maxBatchRows(Signals.CALM)).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void healthSignalsComeBeforeTheRateCap() {
        Signals s = Signals.CALM.withMaxRowsPerSecond(10L).withLiveWorkers(1)
                .withLockTimeouts(50);
        assertThat(Throttler.decide(s, L, 1000, Duration.ZERO).reason()).startsWith("lock timeouts");
    }
}
