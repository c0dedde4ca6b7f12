package dev.shapeshift.coordinator.drive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.db.Sql;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecReader;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The expand's DDL against a table an application transaction holds locked
 * ({@code SELECT … FOR UPDATE} left open): it waits at most its {@code lock_timeout} per attempt
 * and retries, so a plain reader from a third session gets through while the blocker is still
 * open; every AccessExclusive request seen in {@code pg_locks} had waited no longer than the lock
 * timeout; the DDL succeeds once the blocker commits. Negative control: the same DDL without a
 * lock timeout stays queued past it and the reader waits behind it. When the attempts run out, the
 * failure names the blocking session.
 */
@ExtendWith(PostgresExtension.class)
class LockSafeDdlIT {
    private static final Duration TIMEOUT = Duration.ofMillis(400);
    private static final String SPEC = UsersSpec.yaml("lock-safe");

    @Test
    void theExpandRetriesBehindAnOpenTransactionWithoutQueueingReadersAndSucceedsWhenItCommits(PostgresServer pg)
            throws Exception {
        Database db = database(pg, "lock_safe");
        MigrationSpec spec = new SpecReader().read("lock-safe.yaml", SPEC);
        try (Connection blocker = Seed.connectAs(db, db.user(), db.password(), "app-report")) {
            blocker.setAutoCommit(false);
            query(blocker, "SELECT id FROM public.users WHERE id = 1 FOR UPDATE");

            // Negative control: the same DDL without a lock timeout queues and blocks the reader.
            try (Connection naive = Seed.connectAs(db, db.user(), db.password(), "naive-ddl")) {
                int naivePid = pid(naive);
                CompletableFuture<Void> alter = CompletableFuture.runAsync(() -> exec(naive,
                        "ALTER TABLE public.users ADD COLUMN naive boolean"));
                await().atMost(Duration.ofSeconds(30)).until(() -> longestExclusiveWaitMs(db, "naive-ddl"),
                        ms -> ms > 3 * TIMEOUT.toMillis());
                try (Connection reader = Seed.connectAs(db, db.user(), db.password(), "app-reader")) {
                    int readerPid = pid(reader);
                    CompletableFuture<Void> read = CompletableFuture.runAsync(() -> exec(reader,
                            "SELECT count(*) FROM public.users"));
                    await().atMost(Duration.ofSeconds(30)).until(() -> blockedBy(db, readerPid).contains(naivePid));
                    exec(db, "SELECT pg_cancel_backend(" + naivePid + ")");
                    read.get();
                }
                assertThrows(Exception.class, alter::get);
            }

            LockSafeDdl ddl = new LockSafeDdl(db, "coordinator", new LockSafeDdl.Policy(TIMEOUT, 1000,
                    Duration.ofMillis(50), Duration.ofMillis(300)));
            CompletableFuture<List<String>> expand = CompletableFuture.supplyAsync(
                    () -> new Expander(db, ddl).expand(spec));
            Set<Integer> attempts = new HashSet<>();
            AtomicLong longest = new AtomicLong();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
                attempts.addAll(exclusiveWaiters(db, "shapeshift-coordinator"));
                longest.accumulateAndGet(longestExclusiveWaitMs(db, "shapeshift-coordinator"), Math::max);
                return attempts.size() >= 3;
            });
            try (Connection reader = Seed.connectAs(db, db.user(), db.password(), "app-reader")) {
                for (int i = 0; i < 3; i++) {
                    CompletableFuture<Void> read = CompletableFuture.runAsync(() -> exec(reader,
                            "SELECT count(*) FROM public.users"));
                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
                        longest.accumulateAndGet(longestExclusiveWaitMs(db, "shapeshift-coordinator"), Math::max);
                        return read.isDone();
                    });
                    read.get();
                }
            }
            assertThat(expand).as("the DDL is still retrying while the blocker is open").isNotDone();
            assertThat(columnExists(db, "email_verified")).isFalse();
            assertThat(longest.get()).as("no AccessExclusive request of Shapeshift waited much past the lock timeout")
                    .isLessThanOrEqualTo(TIMEOUT.toMillis() + 1000);

            blocker.commit();
            List<String> applied = expand.get();
            assertThat(applied).hasSize(1);
            assertThat(columnExists(db, "email_verified")).isTrue();
        }
    }

    @Test
    void whenTheAttemptsRunOutTheFailureNamesTheBlockingSession(PostgresServer pg) throws Exception {
        Database db = database(pg, "lock_safe_gives_up");
        MigrationSpec spec = new SpecReader().read("lock-safe.yaml", SPEC);
        try (Connection blocker = Seed.connectAs(db, db.user(), db.password(), "app-nightly-report")) {
            blocker.setAutoCommit(false);
            query(blocker, "SELECT count(*) FROM public.users");
            LockSafeDdl ddl = new LockSafeDdl(db, "coordinator", new LockSafeDdl.Policy(TIMEOUT, 2,
                    Duration.ofMillis(50), Duration.ofMillis(100)));
            ShapeshiftException e = assertThrows(ShapeshiftException.class, () -> new Expander(db, ddl).expand(spec));
            assertThat(e.code()).isEqualTo(ErrorCode.TRANSIENT);
            assertThat(e.getMessage()).contains("gave up after 2 attempt(s)")
                    .contains("AccessExclusiveLock on users")
                    .contains("pid " + pid(blocker))
                    .contains("application_name=app-nightly-report")
                    .contains("state=idle in transaction")
                    .contains("SHAPESHIFT_DDL_LOCK_TIMEOUT");
            blocker.rollback();
        }
        assertThat(columnExists(db, "email_verified")).isFalse();
    }

    private static Database database(PostgresServer pg, String prefix) throws SQLException {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase(prefix)), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        exec(db, "CREATE TABLE public.users (id bigint PRIMARY KEY, legacy_verified_at timestamptz)");
        exec(db, "INSERT INTO public.users SELECT g, CASE WHEN g % 2 = 0 THEN now() END FROM generate_series(1, 500) g");
        return db;
    }

    /** Backends of {@code application} waiting (not granted) for an AccessExclusive lock on users. */
    private static Set<Integer> exclusiveWaiters(Database db, String application) throws SQLException {
        try (Connection c = db.connect("test")) {
            return new HashSet<>(Sql.list(c, "SELECT l.pid FROM pg_locks l "
                    + "JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND l.mode = 'AccessExclusiveLock' "
                    + "AND l.relation = 'public.users'::regclass AND a.application_name = ?", rs -> rs.getInt(1), application));
        }
    }

    /** How long the oldest queued AccessExclusive request of {@code application} on users has waited (pg_locks.waitstart). */
    private static long longestExclusiveWaitMs(Database db, String application) throws SQLException {
        try (Connection c = db.connect("test")) {
            return Sql.one(c, "SELECT coalesce(max("
                    + "extract(epoch FROM clock_timestamp() - l.waitstart) * 1000), 0)::bigint FROM pg_locks l "
                    + "JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND l.mode = 'AccessExclusiveLock' "
                    + "AND l.relation = 'public.users'::regclass AND a.application_name = ?", rs -> rs.getLong(1), application);
        }
    }

    private static List<Integer> blockedBy(Database db, int pid) throws SQLException {
        try (Connection c = db.connect("test")) {
            return Sql.list(c, "SELECT unnest(pg_blocking_pids(?))", rs -> rs.getInt(1), pid);
        }
    }

    private static boolean columnExists(Database db, String column) throws SQLException {
        try (Connection c = db.connect("test")) {
            return Sql.one(c, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                    + "AND column_name = ?", rs -> rs.getInt(1), column) == 1;
        }
    }

    private static int pid(Connection c) throws SQLException {
        return Sql.one(c, "SELECT pg_backend_pid()", rs -> rs.getInt(1));
    }

    private static void query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                rs.getObject(1);
            }
        }
    }

    private static void exec(Connection c, String sql) {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void exec(Database db, String sql) throws SQLException {
        try (Connection c = db.connect("test")) {
            exec(c, sql);
        }
    }
}
