package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.coordinator.writes.WriteSwitch;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.spec.SpecJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The read counter of an old table (table mode, installed by the write switch): reads and writes of
 * other roles keep working while it counts, under a concurrent load; every statement is counted by
 * role, application_name and client address, exactly (the test counts the statements it ran, an
 * independent model); Shapeshift's own identity (its role and its session names) is told apart; the
 * evidence names the reader and the {@code read-counter} check closes, then opens a quiet period
 * after the reads stop; counts lost with the unlogged counter table (a crash, a failover) restart
 * counting instead of passing for nothing. Negative controls: with the counter removed the same reads count nothing
 * (so the figures come from the counter), and reads in a read-only transaction are not counted (the
 * documented limit).
 */
@ExtendWith(PostgresExtension.class)
class ReadCounterIT {
    private static final int ROWS = 1000;
    private static final int READERS = 4;
    private static final int READS_EACH = 250;
    private static final int WRITERS = 2;
    private static final int WRITES_EACH = 100;

    @Test
    void countsEveryStatementOnTheOldTableByIdentityUnderLoad(PostgresServer pg) throws Exception {
        long started = System.nanoTime();
        Database db = Seed.database(pg, "read_counter");
        String suffix = Long.toHexString(System.nanoTime());
        String export = "export_" + suffix;
        String app = "app_" + suffix;
        String ours = "ss_" + suffix;
        Seed.sql(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "CREATE TABLE orders (id bigint PRIMARY KEY, amount bigint NOT NULL)",
                "INSERT INTO orders SELECT i, 0 FROM generate_series(1, " + ROWS + ") i",
                "CREATE TABLE orders_v2 (id bigint PRIMARY KEY, amount bigint)",
                "CREATE ROLE " + export + " LOGIN PASSWORD 'app'", "GRANT SELECT ON orders TO " + export,
                "CREATE ROLE " + app + " LOGIN PASSWORD 'app'", "GRANT SELECT, INSERT, UPDATE ON orders TO " + app,
                // a role of Shapeshift's (it may write the catalog) that also reads the old table
                "CREATE ROLE " + ours + " LOGIN PASSWORD 'app'", "GRANT SELECT ON orders TO " + ours,
                "GRANT USAGE ON SCHEMA shapeshift TO " + ours, "GRANT UPDATE ON shapeshift.migration TO " + ours);
        String m = "orders-rc";
        new Catalog(db, "test").create(m, "{\"name\":\"" + m + "\",\"source\":{\"table\":\"orders\"},\"mode\":\"table\","
                + "\"target\":{\"table\":\"orders_v2\",\"columns\":[{\"name\":\"amount\",\"type\":\"bigint\",\"transform\":"
                + "\"amount\"}]},\"contract\":{\"dropTable\":true,\"quietPeriod\":\"3s\"}}", "test", "test");
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'writes-switched', phase_changed_at = now() WHERE name = '" + m + "'");
        AccessWatch watch = new AccessWatch(db);
        watch.baseline(m);
        // A role that does not own the table installs nothing (the switch goes on) and says why.
        String stranger = "stranger_" + suffix;
        Seed.sql(db, "CREATE ROLE " + stranger + " LOGIN PASSWORD 'app'", "GRANT USAGE ON SCHEMA shapeshift TO " + stranger,
                "GRANT INSERT ON shapeshift.audit TO " + stranger, "GRANT USAGE ON ALL SEQUENCES IN SCHEMA shapeshift TO " + stranger);
        try (Connection c = Seed.connectAs(db, stranger, "app", "shapeshift-coordinator")) {
            c.setAutoCommit(false);
            assertThat(ReadCounter.install(c, m, "public", "orders")).contains("does not own \"public\".\"orders\"");
            c.commit();
        }
        assertThat(rls(db)).containsExactly("false", "false", "0");
        try (Connection c = db.connect("coordinator")) {
            c.setAutoCommit(false);
            WriteSwitch.atSwitch(c, m, SpecJson.read(new Catalog(db, "test").get(m).specJson()));
            c.commit();
        }
        assertThat(rls(db)).as("row-level security enabled and forced, four policies").containsExactly("true", "true", "4");

        // The load: 4 export sessions each reading 250 existing keys, 2 application sessions each
        // inserting 100 rows and updating 100, all at once, through the counting policies.
        ExecutorService pool = Executors.newFixedThreadPool(READERS + WRITERS + 2);
        List<Future<Long>> reads = new ArrayList<>();
        List<Future<Long>> writes = new ArrayList<>();
        for (int t = 0; t < READERS; t++) {
            reads.add(pool.submit(() -> {
                long found = 0;
                try (Connection c = Seed.connectAs(db, export, "app", "nightly-export");
                     PreparedStatement ps = c.prepareStatement("SELECT amount FROM orders WHERE id = ?")) {
                    for (int i = 0; i < READS_EACH; i++) {
                        ps.setLong(1, ThreadLocalRandom.current().nextLong(1, ROWS + 1));
                        try (ResultSet rs = ps.executeQuery()) {
                            found += rs.next() ? 1 : 0;
                        }
                    }
                }
                return found;
            }));
        }
        for (int t = 0; t < WRITERS; t++) {
            long base = ROWS + 1 + (long) t * WRITES_EACH;
            writes.add(pool.submit(() -> {
                long changed = 0;
                try (Connection c = Seed.connectAs(db, app, "app", "app");
                     PreparedStatement ins = c.prepareStatement("INSERT INTO orders (id, amount) VALUES (?, 1)");
                     PreparedStatement upd = c.prepareStatement("UPDATE orders SET amount = amount + 1 WHERE id = ?")) {
                    for (int i = 0; i < WRITES_EACH; i++) {
                        ins.setLong(1, base + i);
                        changed += ins.executeUpdate();
                        upd.setLong(1, 1 + i);
                        changed += upd.executeUpdate();
                    }
                }
                return changed;
            }));
        }
        Future<long[]> own = pool.submit(() -> new long[] {readAll(db, ours, "shapeshift-worker-1", 7),
                readAll(db, ours, "psql", 3)});
        Future<Long> ranges = pool.submit(() -> {
            long rows = 0;
            try (Connection c = Seed.connectAs(db, export, "app", "range-export");
                 PreparedStatement ps = c.prepareStatement("SELECT id, amount FROM orders WHERE id BETWEEN ? AND ? + 9")) {
                for (int i = 0; i < 20; i++) {
                    ps.setLong(1, 1 + i * 10L);
                    ps.setLong(2, 1 + i * 10L);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            rows++;
                        }
                    }
                }
            }
            return rows;
        });
        long found = 0;
        for (Future<Long> f : reads) {
            found += f.get();
        }
        long changed = 0;
        for (Future<Long> f : writes) {
            changed += f.get();
        }
        own.get();
        assertThat(ranges.get()).as("20 reads of 10 rows each").isEqualTo(200);
        pool.shutdown();
        assertThat(found).as("every read found its row through the policies").isEqualTo((long) READERS * READS_EACH);
        assertThat(changed).as("every write changed its row").isEqualTo(2L * WRITERS * WRITES_EACH);
        assertThat(Seed.count(db, "SELECT count(*) FROM orders")).isEqualTo(ROWS + (long) WRITERS * WRITES_EACH);
        assertThat(Seed.count(db, "SELECT sum(amount) FROM orders")).as("the updates landed").isEqualTo(2L * WRITERS * WRITES_EACH);

        // Exact counts, straight from the counter table, against the statements this test ran.
        assertThat(counted(db, export, "nightly-export")).containsExactly((long) READERS * READS_EACH, 0L);
        assertThat(counted(db, app, "app")[1]).as("one write per INSERT and per UPDATE").isEqualTo(2L * WRITERS * WRITES_EACH);
        assertThat(counted(db, export, "range-export")).as("one count per statement, not per row").containsExactly(20L, 0L);
        assertThat(counted(db, ours, "shapeshift-worker-1")).containsExactly(7L, 0L);
        assertThat(counted(db, ours, "psql")).containsExactly(3L, 0L);
        // Per identity (role, application_name, client address) and minute: the export role's 4 readers share one
        // identity; its range reader is another (grouping by role alone once counted 5 rows against a bound of 4).
        assertThat(Seed.count(db, "SELECT max(n) FROM (SELECT count(*) AS n FROM shapeshift.read_counter WHERE role_name = '"
                + export + "' GROUP BY bucket, application_name, client_addr) b"))
                .as("rows per identity and minute stay within the identity's concurrent sessions")
                .isBetween(1L, (long) READERS);
        long appReads = counted(db, app, "app")[0];

        // Documented limit: a read-only transaction cannot write its count.
        try (Connection c = Seed.connectAs(db, export, "app", "nightly-export"); Statement s = c.createStatement()) {
            c.setReadOnly(true);
            c.setAutoCommit(false);
            for (int i = 1; i <= 10; i++) {
                s.executeQuery("SELECT amount FROM orders WHERE id = " + i).close();
            }
            c.commit();
        }
        assertThat(counted(db, export, "nightly-export")[0]).isEqualTo((long) READERS * READS_EACH);

        AccessReport r = watch.evaluate(m);
        assertThat(r.readCounter().others()).extracting(ReadCounter.Counted::role).contains(export, app, ours)
                .hasSize(4);
        assertThat(r.readCounter().identities()).filteredOn(ReadCounter.Counted::shapeshift).singleElement()
                .satisfies(x -> assertThat(x.applicationName()).isEqualTo("shapeshift-worker-1"));
        assertThat(r.readers()).anySatisfy(x -> {
            assertThat(x.role()).isEqualTo(export);
            assertThat(x.applicationName()).isEqualTo("nightly-export");
            assertThat(x.clientAddr()).isNotBlank();
        });
        Check closed = check(watch, r);
        assertThat(closed.passed()).isFalse();
        assertThat(closed.evidence()).contains("role " + export + ", application nightly-export")
                .contains((READERS * READS_EACH) + " read(s)").contains("role " + app + ", application app");

        // Negative control: without the counter the same reads are not counted; the table is as before.
        assertThat(ReadCounter.remove(db, m, "test: negative control")).contains("read counter removed from public.orders");
        assertThat(rls(db)).containsExactly("false", "false", "0");
        assertThat(readAll(db, export, "nightly-export", 100)).isEqualTo(100);
        assertThat(counted(db, export, "nightly-export")[0]).isEqualTo((long) READERS * READS_EACH);
        assertThat(ReadCounter.remove(db, m, "again")).isNull();

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            Check open = check(watch, watch.evaluate(m));
            assertThat(open.passed()).as(open.evidence()).isTrue();
            assertThat(open.evidence()).contains("counted from").contains("test: negative control");
        });
        // A second write switch counts again; the contract takes the counter off with the table's move to the archive.
        try (Connection c = db.connect("coordinator")) {
            c.setAutoCommit(false);
            WriteSwitch.atSwitch(c, m, SpecJson.read(new Catalog(db, "test").get(m).specJson()));
            c.commit();
        }
        assertThat(rls(db)).containsExactly("true", "true", "4");
        // The counter table is unlogged: a crash or a failover empties it. The next look sees fewer
        // counts than the previous one and restarts counting; the reader counted before stays named.
        readAll(db, export, "nightly-export", 5);
        watch.evaluate(m);
        Seed.sql(db, "TRUNCATE shapeshift.read_counter");
        AccessReport lost = watch.evaluate(m);
        assertThat(lost.readCounter().lost()).contains("crashed or failed over");
        assertThat(lost.readCounter().countingSince()).isAfter(lost.readCounter().installedAt());
        assertThat(lost.readers()).anySatisfy(x -> assertThat(x.role()).isEqualTo(export));
        assertThat(check(watch, lost).evidence()).contains("counting statements on public.orders for");
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'contract-ready', phase_changed_at = now() WHERE name = '" + m + "'");
        Contractor contractor = new Contractor(db, new Transitions(new Catalog(db, "test"), new Gates(new AccessGate(watch))));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> contractor.contract(m, "test", "quiet").isPresent());
        assertThat(Seed.count(db, "SELECT count(*) FROM pg_class WHERE oid = to_regclass('shapeshift_archive.\"" + m
                + "\"') AND NOT relrowsecurity AND NOT relforcerowsecurity")).as("archived without the counter").isEqualTo(1);
        assertThat(Seed.count(db, "SELECT count(*) FROM pg_policy WHERE polrelid = to_regclass('shapeshift_archive.\"" + m
                + "\"')")).isZero();
        assertThat(Seed.count(db, "SELECT count(*) FROM shapeshift.read_counter_install WHERE migration = '" + m
                + "' AND removed_why = 'contracted'")).isEqualTo(1);
        System.out.printf("ReadCounterIT: %d reads and %d writes counted exactly (UPDATE … WHERE also counted %d "
                + "read(s)), %.1fs%n", READERS * READS_EACH, 2 * WRITERS * WRITES_EACH, appReads,
                (System.nanoTime() - started) / 1e9);
    }

    private static Check check(AccessWatch watch, AccessReport r) {
        return watch.checks(r).stream().filter(c -> c.name().equals("read-counter")).findFirst()
                .orElseThrow(() -> new AssertionError("no read-counter check in " + watch.checks(r)));
    }

    /** {@code n} point reads of existing keys in one session; returns the rows found. */
    private static long readAll(Database db, String role, String application, int n) throws SQLException {
        long found = 0;
        try (Connection c = Seed.connectAs(db, role, "app", application);
             PreparedStatement ps = c.prepareStatement("SELECT amount FROM orders WHERE id = ?")) {
            for (int i = 1; i <= n; i++) {
                ps.setLong(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    found += rs.next() ? 1 : 0;
                }
            }
        }
        return found;
    }

    /** reads, writes counted for one identity, summed over its rows. */
    private static long[] counted(Database db, String role, String application) throws SQLException {
        try (Connection c = db.connect("test"); PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(reads), 0), "
                + "coalesce(sum(writes), 0) FROM shapeshift.read_counter WHERE role_name = ? AND application_name = ?")) {
            ps.setString(1, role);
            ps.setString(2, application);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        }
    }

    private static List<String> rls(Database db) throws SQLException {
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT relrowsecurity, relforcerowsecurity, (SELECT count(*) FROM pg_policies "
                     + "WHERE tablename = 'orders') FROM pg_class WHERE oid = 'public.orders'::regclass")) {
            rs.next();
            return List.of(String.valueOf(rs.getBoolean(1)), String.valueOf(rs.getBoolean(2)), rs.getString(3));
        }
    }
}
