package dev.shapeshift.launcher.bench;

import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedPostgres;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The baseline runs of {@link SyncBench}: PostgreSQL's own logical replication of
 * {@code pgbench_accounts} to a second embedded server (a publication and a subscription), measured
 * with the same probe and pgbench runs as Shapeshift's sync.
 */
final class NativeReplicationRun {
    private NativeReplicationRun() {
    }

    /** Sets up the subscriber, waits for its initial copy, then one timed run at {@code rate} and one unthrottled. */
    static void measure(SyncRuns runs, PrintStream out, EmbeddedPostgres pg, String dbName, Database db, Pgbench bench,
                        ServerCpu cpu, ApplyLagProbe probe, int rate) throws Exception {
        try (EmbeddedPostgres sub = EmbeddedPostgres.start(EmbeddedPostgres.Options.defaults())) {
            Database subDb = new Database(sub.jdbcUrl(sub.createDatabase("bench_sub")), sub.user(), sub.password());
            ServerCpu subCpu = new ServerCpu(sub.dataDir());
            boolean inPlaceColumn;
            try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
                s.execute("CREATE PUBLICATION bench_native FOR TABLE pgbench_accounts");
                inPlaceColumn = dev.shapeshift.db.Sql.exists(c, "SELECT 1 FROM information_schema.columns "
                        + "WHERE table_name = 'pgbench_accounts' AND column_name = 'abalance_cents'");
            }
            try (Connection c = subDb.connect("bench"); Statement s = c.createStatement()) {
                // pgbench's own definition of the table, plus the in-place migration's new column when the
                // source has it (--in-place): without it the subscriber's initial copy fails and retries forever.
                s.execute("CREATE TABLE pgbench_accounts (aid integer NOT NULL PRIMARY KEY, bid integer, abalance integer, "
                        + "filler character(84)" + (inPlaceColumn ? ", abalance_cents bigint" : "") + ") WITH (fillfactor = 100)");
                s.execute("CREATE SUBSCRIPTION bench_native CONNECTION 'host=" + pg.host() + " port=" + pg.port()
                        + " dbname=" + dbName + " user=" + pg.user() + " password=" + pg.password()
                        + "' PUBLICATION bench_native");
            }
            long t0 = System.nanoTime();
            awaitSubscriptionReady(subDb, Duration.ofMinutes(10));
            out.printf(Locale.ROOT, "native: initial copy of pgbench_accounts %.1f s%n", (System.nanoTime() - t0) / 1e9);
            try (Connection c = subDb.connect("bench"); Statement s = c.createStatement()) {
                s.execute("VACUUM ANALYZE pgbench_accounts");
                s.execute("CHECKPOINT");
            }
            probe.replica(new ApplyLagProbe.Replica(subDb, "SELECT abalance FROM pgbench_accounts WHERE aid = 0"));
            try {
                if (!probe.awaitCaughtUp(Duration.ofMinutes(3))) {
                    throw new IllegalStateException("logical replication did not deliver the probe row within 3 minutes");
                }
                runs.warmUp(bench, rate);
                for (int r : List.of(rate, 0)) {
                    probe.take();
                    runs.measure(bench, cpu, subCpu, probe, "native logical replication, " + (r > 0 ? "-R " + r : "unthrottled"),
                            "native", r, null);
                }
            } finally {
                probe.replica(null);
                try (Connection c = subDb.connect("bench"); Statement s = c.createStatement()) {
                    s.execute("DROP SUBSCRIPTION bench_native");
                }
                try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
                    s.execute("DROP PUBLICATION bench_native");
                }
            }
        }
    }

    private static void awaitSubscriptionReady(Database subDb, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection c = subDb.connect("bench")) {
            while (System.nanoTime() < deadline) {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                        "SELECT count(*) FILTER (WHERE srsubstate <> 'r'), count(*) FROM pg_subscription_rel")) {
                    rs.next();
                    if (rs.getLong(2) > 0 && rs.getLong(1) == 0) {
                        return;
                    }
                }
                Thread.sleep(500);
            }
        }
        throw new IllegalStateException("subscription not ready after " + timeout);
    }


}
