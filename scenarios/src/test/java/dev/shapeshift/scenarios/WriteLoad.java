package dev.shapeshift.scenarios;

import dev.shapeshift.db.Connections;
import dev.shapeshift.db.Database;
import dev.shapeshift.fixtures.KeyKind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The seeded application: one connection writing inserts, updates (of small columns only, so
 * out-of-line TOAST values stay unchanged, or of the big value), deletes, key updates and
 * multi-row transactions to the source table, at a capped rate, in a thread. It remembers which
 * keys it deleted (a commit that was confirmed) so the checker can prove none came back; new keys
 * always come from a fresh index, so the application itself never re-creates a deleted key.
 *
 * <p>Bookkeeping follows the database: a transaction's effects are recorded only after its commit
 * returned. A commit whose outcome is unknown (the server restarted under it) is not counted as a
 * delete, and its keys are not used again.
 */
final class WriteLoad implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WriteLoad.class);
    /** Probe keys (recovery measurement) use indexes from here up, apart from the workload's. */
    static final long PROBE_BASE = 900_000_000L;

    private final Database db;
    private final Workload w;
    private final KeyKind kind;
    private final Random random;
    private final List<Long> live = new ArrayList<>();
    private final Map<Long, Integer> position = new HashMap<>();
    private final Set<Long> deleted = new HashSet<>();
    private final AtomicLong transactions = new AtomicLong();
    private final AtomicLong rowChanges = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private long nextIndex = 1;
    private volatile boolean stop;
    private Thread thread;
    private Connection connection;

    WriteLoad(Database db, Workload workload) {
        this.db = db;
        this.w = workload;
        this.kind = workload.keyKind();
        this.random = new Random(workload.seed());
    }

    /** Inserts the preload rows (before the migration), in batches. */
    void preload() throws SQLException {
        try (Connection c = db.connect("app")) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(insertSql())) {
                for (int i = 0; i < w.preloadRows(); i++) {
                    long idx = nextIndex++;
                    bindInsert(ps, idx);
                    ps.addBatch();
                    addLive(idx);
                    if (i % 500 == 499) {
                        ps.executeBatch();
                    }
                }
                ps.executeBatch();
            }
            c.commit();
        }
    }

    /** Starts writing in a thread until {@link #close()}. */
    WriteLoad start() {
        thread = new Thread(this::run, "scenario-writes");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    private void run() {
        long periodNanos = w.opsPerSecond() > 0 ? 1_000_000_000L / w.opsPerSecond() : 0;
        long next = System.nanoTime();
        while (!stop) {
            if (periodNanos > 0) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                next = Math.max(next + periodNanos, System.nanoTime() - 1_000_000_000L);
            }
            try {
                oneTransaction();
            } catch (SQLException | RuntimeException e) {
                failures.incrementAndGet();
                closeConnection();
                sleep(200, 0);
            }
        }
        closeConnection();
    }

    private void oneTransaction() throws SQLException {
        if (connection == null) {
            connection = db.connect("app");
            connection.setAutoCommit(false);
        }
        int pick = random.nextInt(w.mix().total());
        List<Runnable> after = new ArrayList<>();
        Set<Long> touched = new HashSet<>();
        Mix kindOfTx = Mix.of(w.mix(), pick);
        int statements = kindOfTx == Mix.MULTI ? Math.max(2, w.multiRowSize()) : 1;
        long changed = 0;
        boolean committed = false;
        try {
            for (int i = 0; i < statements; i++) {
                Mix k = kindOfTx == Mix.MULTI ? Mix.of(w.mix(), random.nextInt(w.mix().total() - w.mix().multiRow())) : kindOfTx;
                changed += statement(k, touched, after);
            }
            connection.commit();
            committed = true;
        } finally {
            if (!committed) {
                // unknown or failed: forget the keys it touched (never reused), record no delete
                for (Long idx : touched) {
                    removeLive(idx);
                }
                try {
                    connection.rollback();
                } catch (SQLException e) {
                    closeConnection();
                }
            }
        }
        after.forEach(Runnable::run);
        transactions.incrementAndGet();
        rowChanges.addAndGet(changed);
    }

    private int statement(Mix k, Set<Long> touched, List<Runnable> after) throws SQLException {
        if (k != Mix.INSERT && live.size() < 5) {
            k = Mix.INSERT;
        }
        switch (k) {
            case INSERT -> {
                long idx = nextIndex++;
                try (PreparedStatement ps = connection.prepareStatement(insertSql())) {
                    bindInsert(ps, idx);
                    touched.add(idx);
                    after.add(() -> addLive(idx));
                    return ps.executeUpdate();
                }
            }
            case UPDATE -> {
                long idx = pickForUpdate(touched);
                if (idx < 0) {
                    return 0;
                }
                touched.add(idx);
                boolean bigToo = random.nextInt(5) == 0;
                String sql = "UPDATE " + w.table() + " SET a = ?, b = ?" + (bigToo ? ", big = ?" : "") + " WHERE " + kind.predicate();
                try (PreparedStatement ps = connection.prepareStatement(sql)) {
                    int p = bindValues(ps, 1, bigToo);
                    bindKey(ps, p, idx);
                    return ps.executeUpdate();
                }
            }
            case DELETE -> {
                long idx = pickAny(touched);
                if (idx < 0) {
                    return 0;
                }
                touched.add(idx);
                removeLive(idx);
                after.add(() -> deleted.add(idx));
                try (PreparedStatement ps = connection.prepareStatement("DELETE FROM " + w.table() + " WHERE " + kind.predicate())) {
                    bindKey(ps, 1, idx);
                    return ps.executeUpdate();
                }
            }
            case KEY_UPDATE -> {
                long idx = pickAny(touched);
                if (idx < 0) {
                    return 0;
                }
                long moved = nextIndex++;
                touched.add(idx);
                touched.add(moved);
                removeLive(idx);
                after.add(() -> {
                    deleted.add(idx);
                    addLive(moved);
                });
                try (PreparedStatement ps = connection.prepareStatement("UPDATE " + w.table() + " SET " + kind.assignment()
                        + " WHERE " + kind.predicate())) {
                    int p = bindKey(ps, 1, moved);
                    bindKey(ps, p, idx);
                    return ps.executeUpdate();
                }
            }
            default -> throw new IllegalStateException(k.name());
        }
    }

    private long pickForUpdate(Set<Long> touched) {
        if (w.hotKeyFraction() > 0 && random.nextDouble() < w.hotKeyFraction()) {
            long idx = live.get(random.nextInt(Math.min(w.hotKeys(), live.size())));
            return touched.contains(idx) ? -1 : idx;
        }
        return pickAny(touched);
    }

    private long pickAny(Set<Long> touched) {
        long idx = live.get(random.nextInt(live.size()));
        return touched.contains(idx) ? -1 : idx;
    }

    private String insertSql() {
        return "INSERT INTO " + w.table() + " (" + String.join(", ", kind.names) + ", a, b, big) VALUES ("
                + kind.placeholders() + ", ?, ?, ?)";
    }

    private void bindInsert(PreparedStatement ps, long idx) throws SQLException {
        int p = bindKey(ps, 1, idx);
        bindValues(ps, p, true);
    }

    private int bindKey(PreparedStatement ps, int first, long idx) throws SQLException {
        List<String> key = kind.text(idx);
        for (int i = 0; i < key.size(); i++) {
            ps.setString(first + i, key.get(i));
        }
        return first + key.size();
    }

    /** Binds a, b (and big); returns the next parameter index. */
    private int bindValues(PreparedStatement ps, int p, boolean big) throws SQLException {
        if (random.nextDouble() < w.nullFraction()) {
            ps.setNull(p, Types.INTEGER);
        } else if (random.nextDouble() < w.zeroFraction()) {
            ps.setInt(p, 0);
        } else {
            int a = random.nextInt(2001) - 1000;
            ps.setInt(p, a == 0 && w.zeroFraction() == 0 ? 1 : a);
        }
        if (random.nextDouble() < w.nullFraction()) {
            ps.setNull(p + 1, Types.VARCHAR);
        } else {
            ps.setString(p + 1, "b" + Long.toString(random.nextLong() & 0xffffffL, 36));
        }
        if (!big) {
            return p + 2;
        }
        if (random.nextDouble() < w.nullFraction()) {
            ps.setNull(p + 2, Types.VARCHAR);
        } else if (random.nextDouble() < w.toastFraction()) {
            ps.setString(p + 2, incompressible(3000 + random.nextInt(3000)));
        } else {
            ps.setString(p + 2, "s" + random.nextInt(1000));
        }
        return p + 3;
    }

    private String incompressible(int length) {
        StringBuilder b = new StringBuilder(length);
        while (b.length() < length) {
            b.append(Long.toString(random.nextLong() & Long.MAX_VALUE, 36));
        }
        b.setLength(length);
        return b.toString();
    }

    private void addLive(long idx) {
        position.put(idx, live.size());
        live.add(idx);
    }

    private void removeLive(long idx) {
        Integer pos = position.remove(idx);
        if (pos == null) {
            return;
        }
        long last = live.remove(live.size() - 1);
        if (last != idx) {
            live.set(pos, last);
            position.put(last, pos);
        }
    }

    private void closeConnection() {
        Connections.closeQuietly(connection, LOG, "the write load's session"); // broken already, if it fails
        connection = null;
    }

    /** Keys the application deleted (or moved away from) with a confirmed commit; their text form. Call after close. */
    List<List<String>> deletedKeys() {
        return deleted.stream().map(kind::text).toList();
    }

    long transactions() {
        return transactions.get();
    }

    long rowChanges() {
        return rowChanges.get();
    }

    long failures() {
        return failures.get();
    }

    @Override
    public void close() {
        stop = true;
        if (thread != null) {
            try {
                thread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void sleep(long ms, int nanos) {
        try {
            Thread.sleep(ms, nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Transaction kinds, chosen by weight. */
    private enum Mix {
        INSERT, UPDATE, DELETE, KEY_UPDATE, MULTI;

        static Mix of(Workload.Mix m, int pick) {
            if ((pick -= m.insert()) < 0) {
                return INSERT;
            }
            if ((pick -= m.update()) < 0) {
                return UPDATE;
            }
            if ((pick -= m.delete()) < 0) {
                return DELETE;
            }
            if ((pick -= m.keyUpdate()) < 0) {
                return KEY_UPDATE;
            }
            return MULTI;
        }
    }
}
