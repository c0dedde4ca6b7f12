package dev.shapeshift.coordinator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.catalog.DriftStore;
import dev.shapeshift.coordinator.reconcile.RunStore.Run;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.Reconcile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A stopped run continues from its checkpoint; pacing holds the cap; the slot-based sync signal. */
@ExtendWith(PostgresExtension.class)
class ReconcileResumeIT {
    @Test
    void aStoppedRunContinuesFromItsLastKey(PostgresServer pg) throws Exception {
        try (ReconcileFixture f = new ReconcileFixture(pg, KeyKind.COMPOSITE, Mode.TABLE)) {
            f.populate(3000);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Reconciler reconciler = f.reconciler(SyncProgress.NO_SYNC, registry, ReconcileFixture.options(200));
            var ranges = registry.get("shapeshift.reconcile.ranges").counter();

            Run stopped = reconciler.runOnce(() -> ranges.count() >= 4);
            assertThat(stopped.status()).isEqualTo("stopped");
            assertThat(stopped.rangesDone()).isEqualTo(4);
            assertThat(stopped.rowsChecked()).isEqualTo(800);
            assertThat(stopped.lastKey()).isNotNull();
            assertThat(registry.get("shapeshift.reconcile.progress").gauge().value()).isBetween(0.2, 0.35);

            Run resumed = reconciler.runOnce(() -> false);
            assertThat(resumed.id()).as("the same run continues").isEqualTo(stopped.id());
            assertThat(resumed.status()).isEqualTo("done");
            // 15 full ranges of 200 keys, then the open range past the last key (empty).
            assertThat(resumed.rangesDone()).isEqualTo(16);
            assertThat(ranges.count()).as("the second call compared only the remaining ranges").isEqualTo(16);
            assertThat(resumed.rowsChecked()).as("no range compared twice").isEqualTo(3000);
            assertThat(resumed.driftFound()).isZero();

            Run next = reconciler.runOnce(() -> false);
            assertThat(next.id()).as("a finished run is not resumed").isGreaterThan(resumed.id());
            assertThat(next.rangesDone()).isEqualTo(16);
        }
    }

    /** What a run crashed with a gap in its finished ranges left stored, and what its resumption reported. */
    record GapOutcome(Key checkpointAfterCrash, long rowsAfterCrash, Map<Key, String> planted, Map<Key, String> reported,
                      Run resumed) {
    }

    /**
     * Two connections; range 2 (keys 400..599 in key order, where the drift is planted) is held back
     * so range 3 finishes first, then the process "dies" as range 4 starts. Only ranges 0 and 1 are
     * known done: the stored checkpoint must be the end of range 1, and the resumed run must compare
     * range 2 and find the planted keys, which the fixture's Java model confirms independently.
     */
    @Test
    void theCheckpointIsTheHighestContiguousRangeSoTheResumedRunComparesTheGap(PostgresServer pg) throws Exception {
        GapOutcome o = crashWithAGapThenResume(pg, false);
        assertThat(o.checkpointAfterCrash()).as("end of range 1, not of range 3").isEqualTo(KeyKind.BIGINT.key(399));
        assertThat(o.rowsAfterCrash()).as("ranges 0 and 1 stored, range 3 not (a gap below it)").isEqualTo(400);
        assertThat(o.planted()).hasSize(2);
        assertThat(o.reported()).as("exactly the planted keys, with their kinds").isEqualTo(o.planted());
        assertThat(o.resumed().status()).isEqualTo("done");
        assertThat(o.resumed().rowsChecked()).as("every row once: the unstored range 3 was compared again, not counted twice")
                .isEqualTo(3000);
    }

    /** Negative control: with the checkpoint at the highest range compared, the gap is never compared and the drift is missed. */
    @Test
    void withTheCheckpointAtTheHighestRangeComparedTheGapIsSkipped(PostgresServer pg) throws Exception {
        GapOutcome o = crashWithAGapThenResume(pg, true);
        assertThat(o.checkpointAfterCrash()).as("end of range 3").isEqualTo(KeyKind.BIGINT.key(799));
        assertThat(o.planted()).hasSize(2);
        assertThat(o.reported()).as("the bug this guards against: drift in the gap goes unseen").isEmpty();
        assertThat(o.resumed().status()).isEqualTo("done");
    }

    private static GapOutcome crashWithAGapThenResume(PostgresServer pg, boolean highestCompared) throws Exception {
        try (ReconcileFixture f = new ReconcileFixture(pg, KeyKind.BIGINT, Mode.TABLE)) {
            f.populate(3000);
            try (Connection c = f.db.connect("test")) {
                f.execForKey(c, "tgt", "UPDATE {t} SET label = 'tampered'", f.kind.key(450));
                f.execForKey(c, "tgt", "DELETE FROM {t}", f.kind.key(520));
            }
            Map<Key, String> planted = f.check();
            Reconciler.Options options = ReconcileFixture.options(200).withParallelism(2).withRecheckAfter(Duration.ZERO);
            Reconciler crashing = f.reconciler(SyncProgress.NO_SYNC, new SimpleMeterRegistry(), options)
                    .beforeEachCompare(index -> {
                        if (index == 2) {
                            new CountDownLatch(1).await(); // held until the crash interrupts it
                        } else if (index == 4) {
                            throw new SimulatedCrash();
                        }
                    });
            if (highestCompared) {
                crashing.checkpointAtHighestCompared();
            }
            assertThatThrownBy(() -> crashing.runOnce(() -> false)).isInstanceOf(SimulatedCrash.class);
            Run crashed = crashing.status().orElseThrow();
            assertThat(crashed.status()).as("left as a crash leaves it").isEqualTo("running");

            Run resumed = f.reconciler(SyncProgress.NO_SYNC, new SimpleMeterRegistry(), options).runOnce(() -> false);
            assertThat(resumed.id()).as("the crashed run continues").isEqualTo(crashed.id());
            return new GapOutcome(crashed.lastKey(), crashed.rowsChecked(), planted, f.reportedDrift(), resumed);
        }
    }

    /** The process dying mid-run: an Error, so the run is not marked stopped or failed, as after a kill. */
    static final class SimulatedCrash extends Error {
        SimulatedCrash() {
            super("simulated crash");
        }
    }

    @Test
    void aPassIsNotDoneWhileTheSyncHasNotCaughtUp(PostgresServer pg) throws Exception {
        try (ReconcileFixture f = new ReconcileFixture(pg, KeyKind.BIGINT, Mode.TABLE)) {
            f.populate(500);
            try (Connection c = f.db.connect("test")) {
                f.execForKey(c, "tgt", "UPDATE {t} SET label = 'tampered'", f.kind.key(7));
            }
            Reconciler.Options options = ReconcileFixture.options(200)
                    .withRecheckAfter(Duration.ZERO).withSettleTimeout(Duration.ofMillis(500));
            Run waiting = f.reconciler(lsn -> false, new SimpleMeterRegistry(), options).runOnce(() -> false);
            assertThat(waiting.status()).as("no verdict without the sync: not evidence").isEqualTo("stopped");
            assertThat(waiting.message()).contains("1 differing keys still wait for their re-check");
            assertThat(new DriftStore(f.catalog).page(ReconcileFixture.MIGRATION, null, 10)).isEmpty();

            Run done = f.reconciler(SyncProgress.NO_SYNC, new SimpleMeterRegistry(), options).runOnce(() -> false);
            assertThat(done.id()).isEqualTo(waiting.id());
            assertThat(done.status()).isEqualTo("done");
            assertThat(done.rowsChecked()).as("only the last range compared again").isEqualTo(500);
            assertThat(done.driftFound()).isEqualTo(1);
        }
    }

    @Test
    void continuousModeRunsAgainEveryInterval(PostgresServer pg) throws Exception {
        try (ReconcileFixture f = new ReconcileFixture(pg, KeyKind.UUID, Mode.TABLE)) {
            f.populate(1000);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Reconciler reconciler = f.reconciler(SyncProgress.NO_SYNC, registry,
                    ReconcileFixture.options(500).withInterval(Duration.ofMillis(100)));
            var ranges = registry.get("shapeshift.reconcile.ranges").counter();
            // 1000 keys in ranges of 500: 3 ranges a run (the last one open and empty).
            reconciler.runContinuously(() -> ranges.count() >= 9);
            Run last = reconciler.status().orElseThrow();
            assertThat(last.status()).isEqualTo("done");
            try (Connection c = f.db.connect("test"); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*), count(*) FILTER (WHERE status = 'done') "
                         + "FROM shapeshift.reconcile_run")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(3);
                assertThat(rs.getInt(2)).isEqualTo(3);
            }
        }
    }

    @Test
    void aRunIsPacedByMaxRowsPerSecond(PostgresServer pg) throws Exception {
        try (ReconcileFixture f = new ReconcileFixture(pg, KeyKind.BIGINT, Mode.IN_PLACE)) {
            f.populate(3000);
            Reconciler reconciler = f.reconciler(SyncProgress.NO_SYNC, new SimpleMeterRegistry(),
                    Reconciler.Options.from(new Reconcile(500, null, 5000L, null)));
            Instant start = Instant.now();
            Run run = reconciler.runOnce(() -> false);
            Duration took = Duration.between(start, Instant.now());
            assertThat(run.rowsChecked()).isEqualTo(3000);
            // 2500 rows are paced before the last range: at 5000 rows/s at least 0.5 s.
            assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(450));
        }
    }

    @Test
    void slotSignalFollowsConfirmedFlushLsn(PostgresServer pg) throws Exception {
        try (ReconcileFixture f = new ReconcileFixture(pg, KeyKind.BIGINT, Mode.TABLE);
             Connection c = f.db.connect("test"); Statement s = c.createStatement()) {
            String slot = "reconcile_it_" + Long.toHexString(System.nanoTime());
            s.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'test_decoding')");
            try {
                f.populate(10);
                String lsn;
                try (ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
                    rs.next();
                    lsn = rs.getString(1);
                }
                SyncProgress progress = SyncProgress.slot(f.db, slot);
                assertThat(progress.appliedPast(lsn)).isFalse();
                s.execute("SELECT pg_replication_slot_advance('" + slot + "', '" + lsn + "')");
                assertThat(progress.appliedPast(lsn)).isTrue();
                assertThatThrownBy(() -> SyncProgress.slot(f.db, "no_such_slot").appliedPast(lsn))
                        .isInstanceOf(ShapeshiftException.class)
                        .extracting(e -> ((ShapeshiftException) e).code()).isEqualTo(ErrorCode.SOURCE_CHANGED);
            } finally {
                s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
            }
        }
    }
}
