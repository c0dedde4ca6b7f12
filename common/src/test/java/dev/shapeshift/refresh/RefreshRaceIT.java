package dev.shapeshift.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.refresh.RefreshFixture.Check;
import dev.shapeshift.spec.Mode;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
        assertThat(o.check).as("target vs transform(source) after %s", o).isEqualTo(new Check(0, 0, 0));
        assertThat(o.applicationFailures).as("application transactions aborted by the workers").isZero();
    }

    @ParameterizedTest(name = "{0} {1} seed={2}")
    @MethodSource("cases")
    void negativeControlWithoutGuardsIsCaught(KeyKind kind, Mode mode, long seed) throws Exception {
        Outcome o = run(kind, mode, seed, Guards.UNGUARDED.withPause(WINDOW));
        assertThat(o.check.stale() + o.check.zombies())
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
        assertThat(o.check.stale() + o.check.zombies())
                .as("the chunk statement without the fence must leave zombies or stale rows that the check finds: %s", o)
                .isPositive();
    }

    static List<Arguments> tableCases() {
        return cases().stream().filter(a -> a.get()[1] == Mode.TABLE).toList();
    }

    record Outcome(Check check, long writes, long syncRefreshes, long applicationFailures) {
    }

    private Outcome run(KeyKind kind, Mode mode, long seed, Guards backfillGuards) throws Exception {
        String name = pg.createDatabase("race");
        RefreshFixture f = new RefreshFixture(new Database(pg.jdbcUrl(name), pg.user(), pg.password()), kind, mode);
        f.createTables();
        Random r = new Random(seed);
        List<Key> live = new ArrayList<>();
        try (Connection c = f.db.connect("app")) {
            for (int i = 0; i < ROWS; i++) {
                Key k = kind.key(i);
                f.insert(c, k, RefreshFixture.randomRow(r));
                live.add(k);
            }
        }
        Refresher backfill = new Refresher(f.resolved, Guards.SYNC, backfillGuards);
        Refresher sync = new Refresher(f.resolved);
        WorkerTransactions tx = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);
        ConcurrentLinkedQueue<Key> changes = new ConcurrentLinkedQueue<>();
        AtomicBoolean backfillDone = new AtomicBoolean();
        AtomicBoolean writersStop = new AtomicBoolean();
        AtomicBoolean writersDone = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        AtomicLong refreshes = new AtomicLong();
        AtomicInteger appFailures = new AtomicInteger();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();

        // Like a chunk plan, the backfill covers the keys up to the highest one at its start, in
        // chunks of CHUNK keys copied in sub-batches of 40; keys inserted later are the sync's
        // (otherwise the backfill chases the inserts). Early chunks find no target row in their
        // range (the plain-insert path of Refresher.copy), later ones rows the sync wrote (the
        // anti-join path): the log line counts both.
        List<Key> bounds;
        try (Connection c = f.db.connect("plan")) {
            bounds = f.sortedSourceKeys(c);
        }
        AtomicInteger emptyAtStart = new AtomicInteger();
        // The writers aim at the chunk being copied (and at chunks already copied), so the race
        // happens inside the chunk's window and chunks ahead stay untouched until their turn.
        AtomicReference<List<Key>> frontier = new AtomicReference<>();
        List<Key> copied = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicInteger chunks = new AtomicInteger();
        Thread backfiller = thread("backfill", errors, () -> {
            try (Connection c = f.db.connect("backfill")) {
                for (int from = 0; from < bounds.size(); from += CHUNK) {
                    Key after = from == 0 ? null : bounds.get(from - 1);
                    List<Key> chunkKeys = bounds.subList(from, Math.min(from + CHUNK, bounds.size()));
                    Key upTo = chunkKeys.get(chunkKeys.size() - 1);
                    KeyRange range = new KeyRange(after, upTo);
                    frontier.set(chunkKeys);
                    chunks.incrementAndGet();
                    if (f.targetRows(c, range) == 0) {
                        emptyAtStart.incrementAndGet();
                    }
                    while (true) {
                        KeyRange current = range;
                        RefreshResult batch = tx.run(c, conn -> backfill.copy(conn, current, 40));
                        if (batch.lastKey() == null) {
                            break;
                        }
                        range = range.resumeAfter(batch.lastKey());
                    }
                    copied.addAll(chunkKeys);
                }
            }
            backfillDone.set(true);
        });
        Thread syncer = thread("sync", errors, () -> {
            try (Connection c = f.db.connect("sync")) {
                // Drain until every writer has finished, not merely been told to stop: a writer
                // between its commit and queueing its keys would otherwise be lost here.
                while (!(writersDone.get() && backfillDone.get() && changes.isEmpty())) {
                    Set<Key> batch = new LinkedHashSet<>();
                    for (Key k; batch.size() < 200 && (k = changes.poll()) != null; ) {
                        batch.add(k);
                    }
                    if (batch.isEmpty()) {
                        Thread.sleep(2);
                        continue;
                    }
                    tx.run(c, conn -> sync.refresh(conn, batch));
                    refreshes.addAndGet(batch.size());
                }
            }
        });
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            long writerSeed = seed * 31 + w;
            // Only writer 0 runs two-row transactions, so writers cannot deadlock each other:
            // every application failure left is one the workers caused.
            boolean multiRow = w == 0;
            long firstNewKey = 1_000_000L * (w + 2);
            writers.add(thread("writer-" + w, errors, () -> write(f, new Random(writerSeed), multiRow, firstNewKey,
                    new Targets(live, frontier, copied), changes, writersStop, backfillDone, writes, appFailures)));
        }
        backfiller.join(Duration.ofMinutes(3).toMillis());
        writersStop.set(true);
        for (Thread t : writers) {
            t.join(Duration.ofMinutes(1).toMillis());
        }
        writersDone.set(true);
        syncer.join(Duration.ofMinutes(1).toMillis());
        assertThat(errors).as("worker or writer threads failed").isEmpty();
        assertThat(backfiller.isAlive() || syncer.isAlive()).as("threads finished").isFalse();
        Outcome o = new Outcome(f.check(), writes.get(), refreshes.get(), appFailures.get());
        log.info("race outcome kind={} mode={} guards={} chunks={} chunks_with_no_target_row_at_start={} outcome={}",
                kind, mode, backfillGuards, chunks.get(), emptyAtStart.get(), o);
        return o;
    }

    /** The application: single- and two-row transactions of updates, deletes, inserts and key updates. */
    /**
     * Where the writers aim: three in four writes at the chunk being copied, the rest at chunks
     * already copied; before the backfill starts, and for the keys writers create, anywhere.
     */
    record Targets(List<Key> live, AtomicReference<List<Key>> frontier, List<Key> copied) {
        Key pick(Random r) {
            List<Key> front = frontier.get();
            if (front != null) {
                if (r.nextInt(4) > 0 || copied.isEmpty()) {
                    return front.get(r.nextInt(front.size()));
                }
                return copied.get(r.nextInt(copied.size()));
            }
            synchronized (live) {
                return live.get(r.nextInt(live.size()));
            }
        }
    }

    static void write(RefreshFixture f, Random r, boolean multiRow, long firstNewKey, Targets targets, ConcurrentLinkedQueue<Key> changes,
                              AtomicBoolean stop, AtomicBoolean backfillDone, AtomicLong writes,
                              AtomicInteger failures) throws SQLException, InterruptedException {
        long nextKey = firstNewKey;
        try (Connection c = f.db.connect("app")) {
            c.setAutoCommit(false);
            while (!stop.get() && !backfillDone.get()) {
                List<Key> touched = new ArrayList<>();
                try {
                    int rowsInTx = multiRow && r.nextInt(4) == 0 ? 2 : 1;
                    for (int i = 0; i < rowsInTx; i++) {
                        Key k = targets.pick(r);
                        int op = r.nextInt(100);
                        if (op < 55) {
                            f.execForKey(c, "UPDATE src SET a = ?", k, r.nextInt(1000));
                        } else if (op < 70) {
                            f.execForKey(c, "UPDATE src SET b = ?", k, "w" + r.nextInt(100_000));
                        } else if (op < 80) {
                            f.execForKey(c, "DELETE FROM src", k);
                        } else if (op < 90) {
                            k = f.kind.key(nextKey++);
                            f.insert(c, k, RefreshFixture.randomRow(r));
                        } else {
                            // A key update arrives as delete of the old key and insert of the new one.
                            Key moved = f.kind.key(nextKey++);
                            String set = String.join(", ", f.kind.columns.stream().map(col -> col.name() + " = ?::" + col.type()).toList());
                            f.execForKey(c, "UPDATE src SET " + set, k, moved.values().toArray());
                            touched.add(moved);
                        }
                        touched.add(k);
                    }
                    c.commit();
                    writes.incrementAndGet();
                    Thread.sleep(1);
                    changes.addAll(touched);
                    synchronized (targets.live()) {
                        targets.live().addAll(touched);
                    }
                } catch (SQLException e) {
                    c.rollback();
                    failures.incrementAndGet();
                    log.warn("application transaction failed sqlstate={} message={}", e.getSQLState(), e.getMessage());
                }
            }
        }
    }

    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    static Thread thread(String name, List<Throwable> errors, Body body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                errors.add(e);
                log.error("thread {} failed", name, e);
            }
        }, name);
        t.start();
        return t;
    }
}
