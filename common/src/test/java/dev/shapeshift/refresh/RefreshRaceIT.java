package dev.shapeshift.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.fixtures.RowCheck;
import dev.shapeshift.spec.Mode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The race DESIGN.md is about: a backfill chunk reads rows, the application changes some of them,
 * the sync refreshes them, and then the chunk writes what it read. A pause between the chunk's read
 * and write widens the window to 150 ms, while the simulated sync lag stays a few ms, so the race
 * happens many times per run.
 *
 * <p>With the guards the target must equal transform(source) (checked by the Java model in
 * {@link RefreshFixture#check}). The negative control runs the same scenario with the guards
 * removed (no row lock, blind overwrite) and must be caught by the same check.
 */
@ExtendWith(PostgresExtension.class)
class RefreshRaceIT {
    private static final Logger log = LoggerFactory.getLogger(RefreshRaceIT.class);
    private static final Duration WINDOW = Duration.ofMillis(150);
    private static final int ROWS = 1500;
    private static final int CHUNK = 100;

    private final PostgresServer pg;

    RefreshRaceIT(PostgresServer pg) {
        this.pg = pg;
    }

    static List<Arguments> cases() {
        return List.of(
                Arguments.of(KeyKind.BIGINT, Mode.TABLE, 11L),
                Arguments.of(KeyKind.COMPOSITE, Mode.TABLE, 12L),
                Arguments.of(KeyKind.UUID, Mode.TABLE, 13L),
                Arguments.of(KeyKind.BIGINT, Mode.IN_PLACE, 14L),
                Arguments.of(KeyKind.COMPOSITE, Mode.IN_PLACE, 15L));
    }

    @ParameterizedTest(name = "{0} {1} seed={2}")
    @MethodSource("cases")
    void guardedBackfillAndSyncConvergeUnderConcurrentWrites(KeyKind kind, Mode mode, long seed) throws Exception {
        Outcome o = run(kind, mode, seed, Guards.BACKFILL.withPause(WINDOW));
        assertThat(o.check).as("target vs transform(source) after %s", o).isEqualTo(new RowCheck(0, 0, 0));
        assertThat(o.applicationFailures).as("application transactions aborted by the workers").isZero();
    }

    @ParameterizedTest(name = "{0} {1} seed={2}")
    @MethodSource("cases")
    void negativeControlWithoutGuardsIsCaught(KeyKind kind, Mode mode, long seed) throws Exception {
        Outcome o = run(kind, mode, seed, Guards.UNGUARDED.withPause(WINDOW));
        assertThat(o.check.stale() + o.check.extra())
                .as("the unguarded copier must leave stale rows or zombies that the check finds: %s", o)
                .isPositive();
    }

    /**
     * Table mode's chunk statement needs the fence: without it (and with {@code ON CONFLICT DO
     * NOTHING}, so that a race shows as a wrong row rather than a unique violation) a delete
     * refreshed while the chunk sleeps between its read and its write comes back as a zombie.
     */
    @ParameterizedTest(name = "{0} {1} seed={2}")
    @MethodSource("tableCases")
    void negativeControlWithoutFenceIsCaught(KeyKind kind, Mode mode, long seed) throws Exception {
        Guards unfenced = new Guards(Guards.RowLock.NONE, Guards.OnConflict.NOTHING, Guards.Fence.NONE, WINDOW);
        Outcome o = run(kind, mode, seed, unfenced);
        assertThat(o.check.stale() + o.check.extra())
                .as("the chunk statement without the fence must leave zombies or stale rows that the check finds: %s", o)
                .isPositive();
    }

    static List<Arguments> tableCases() {
        return cases().stream().filter(a -> a.get()[1] == Mode.TABLE).toList();
    }

    record Outcome(RowCheck check, long writes, long syncRefreshes, long applicationFailures) {
    }

    private Outcome run(KeyKind kind, Mode mode, long seed, Guards backfillGuards) throws Exception {
        Race race = new Race(pg, "race", kind, mode, seed, ROWS);
        RefreshFixture f = race.f;
        Refresher backfill = new Refresher(f.resolved, Guards.SYNC, backfillGuards);
        Refresher sync = new Refresher(f.resolved);
        AtomicLong refreshes = new AtomicLong();
        // Like a chunk plan, the backfill covers the keys up to the highest one at its start, in
        // chunks of CHUNK keys copied in sub-batches of 40; keys inserted later are the sync's
        // (otherwise the backfill chases the inserts). Early chunks find no target row in their
        // range (the plain-insert path of Refresher.copy), later ones rows the sync wrote (the
        // anti-join path): the log line counts both.
        AtomicInteger emptyAtStart = new AtomicInteger();
        AtomicInteger chunks = new AtomicInteger();
        Thread backfiller = race.backfill(CHUNK, (c, range) -> {
            chunks.incrementAndGet();
            if (f.targetRows(c, range) == 0) {
                emptyAtStart.incrementAndGet();
            }
            while (true) {
                KeyRange current = range;
                RefreshResult batch = race.tx.run(c, conn -> backfill.copy(conn, current, 40));
                if (batch.lastKey() == null) {
                    break;
                }
                range = range.resumeAfter(batch.lastKey());
            }
        });
        Thread syncer = race.sync((c, batch) -> {
            race.tx.run(c, conn -> sync.refresh(conn, batch));
            refreshes.addAndGet(batch.size());
        });
        race.writeUntilBackfilled(backfiller, syncer, () -> { });
        Outcome o = new Outcome(f.check(), race.writes.get(), refreshes.get(), race.appFailures.get());
        log.info("race outcome kind={} mode={} guards={} chunks={} chunks_with_no_target_row_at_start={} outcome={}",
                kind, mode, backfillGuards, chunks.get(), emptyAtStart.get(), o);
        return o;
    }

}
