package dev.shapeshift.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresServer;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The race of a backfill and a sync under two application writers, as {@link RefreshRaceIT} (into
 * a table or in place) and {@link SinkRaceIT} (into a sink) run it: {@code rows} seeded rows; a
 * backfill thread that copies them chunk by chunk in key order (as a chunk plan does, up to the
 * highest key at its start); a sync thread that refreshes the keys the writers changed until every
 * writer has finished; two seeded writers aiming at the chunk being copied ({@link Targets}). Each
 * test says what one backfill range copy and one sync batch are.
 */
final class Race {
    private static final Logger log = LoggerFactory.getLogger(Race.class);

    final RefreshFixture f;
    /** The database's name, as {@link PostgresServer#createDatabase} gave it. */
    final String database;
    final WorkerTransactions tx = new WorkerTransactions(WorkerTransactions.Policy.DEFAULT);
    final AtomicLong writes = new AtomicLong();
    final AtomicInteger appFailures = new AtomicInteger();
    private final long seed;
    private final List<Key> live = new ArrayList<>();
    private final ConcurrentLinkedQueue<Key> changes = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean backfillDone = new AtomicBoolean();
    private final AtomicBoolean writersStop = new AtomicBoolean();
    private final AtomicBoolean writersDone = new AtomicBoolean();
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    // The writers aim at the chunk being copied (and at chunks already copied), so the race
    // happens inside the chunk's window and chunks ahead stay untouched until their turn.
    private final AtomicReference<List<Key>> frontier = new AtomicReference<>();
    private final List<Key> copied = new CopyOnWriteArrayList<>();

    /** A new database {@code database} with the fixture's tables and {@code rows} random rows of {@code seed}. */
    Race(PostgresServer pg, String database, KeyKind kind, Mode mode, long seed, int rows) throws SQLException {
        this.database = pg.createDatabase(database);
        this.f = new RefreshFixture(new Database(pg.jdbcUrl(this.database), pg.user(), pg.password()), kind, mode);
        this.seed = seed;
        f.createTables();
        Random r = new Random(seed);
        try (Connection c = f.db.connect("app")) {
            for (int i = 0; i < rows; i++) {
                Key k = kind.key(i);
                f.insert(c, k, RefreshFixture.randomRow(r));
                live.add(k);
            }
        }
    }

    /** Copies one chunk's range (the rows a sub-batch at a time) on the backfill's connection. */
    interface ChunkCopy {
        void copy(Connection c, KeyRange range) throws Exception;
    }

    /** Refreshes one batch of changed keys on the sync's connection. */
    interface SyncBatch {
        void refresh(Connection c, Set<Key> batch) throws Exception;
    }

    /**
     * Starts the backfill: the source keys at its start in chunks of {@code chunkRows}; for each
     * chunk the writers' frontier moves to it, then {@code copy} runs over its range.
     */
    Thread backfill(int chunkRows, ChunkCopy copy) throws SQLException {
        List<Key> bounds;
        try (Connection c = f.db.connect("plan")) {
            bounds = f.sortedSourceKeys(c);
        }
        return thread("backfill", errors, () -> {
            try (Connection c = f.db.connect("backfill")) {
                for (int from = 0; from < bounds.size(); from += chunkRows) {
                    Key after = from == 0 ? null : bounds.get(from - 1);
                    List<Key> chunkKeys = bounds.subList(from, Math.min(from + chunkRows, bounds.size()));
                    KeyRange range = new KeyRange(after, chunkKeys.get(chunkKeys.size() - 1));
                    frontier.set(chunkKeys);
                    copy.copy(c, range);
                    copied.addAll(chunkKeys);
                }
            }
            backfillDone.set(true);
        });
    }

    /** Starts the sync: up to 200 changed keys a batch, until the writers and the backfill are done and nothing is left. */
    Thread sync(SyncBatch refresh) {
        return thread("sync", errors, () -> {
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
                    refresh.refresh(c, batch);
                }
            }
        });
    }

    /**
     * Starts the two writers, lets them write until the backfill is done, then waits for the
     * writers and the sync; {@code afterSync} runs once the sync stopped. Fails when a thread
     * failed or did not finish.
     */
    void writeUntilBackfilled(Thread backfiller, Thread syncer, Runnable afterSync) throws InterruptedException {
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            long writerSeed = seed * 31 + w;
            // Only writer 0 runs two-row transactions, so writers cannot deadlock each other:
            // every application failure left is one the workers caused.
            boolean multiRow = w == 0;
            long firstNewKey = 1_000_000L * (w + 2);
            writers.add(thread("writer-" + w, errors, () -> write(new Random(writerSeed), multiRow, firstNewKey,
                    new Targets(live, frontier, copied))));
        }
        backfiller.join(Duration.ofMinutes(3).toMillis());
        writersStop.set(true);
        for (Thread t : writers) {
            t.join(Duration.ofMinutes(1).toMillis());
        }
        writersDone.set(true);
        syncer.join(Duration.ofMinutes(1).toMillis());
        afterSync.run();
        assertThat(errors).as("worker or writer threads failed").isEmpty();
        assertThat(backfiller.isAlive() || syncer.isAlive()).as("threads finished").isFalse();
    }

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

    /** The application: single- and two-row transactions of updates, deletes, inserts and key updates. */
    private void write(Random r, boolean multiRow, long firstNewKey, Targets targets)
            throws SQLException, InterruptedException {
        long nextKey = firstNewKey;
        try (Connection c = f.db.connect("app")) {
            c.setAutoCommit(false);
            while (!writersStop.get() && !backfillDone.get()) {
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
                    appFailures.incrementAndGet();
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
