package dev.shapeshift.launcher.demo;

import dev.shapeshift.db.Database;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/** What the demo does to its database directly, as the application or as an outside observer. */
final class DemoDatabase {
    private DemoDatabase() {
    }

    /** Creates and loads the application's table and the application's own role; returns the application's login. */
    static Database seed(Database db, Scenario scenario, long rows, PrintStream out) throws SQLException {
        try (Connection c = db.connect("demo-seed"); Statement s = c.createStatement()) {
            s.execute(scenario.createSql());
            // The contract gate's evidence: who still reads or writes the old shape (docs/contract.md).
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            for (String sql : Scenario.APP_ROLE_SQL) {
                s.execute(sql);
            }
            long t0 = System.nanoTime();
            s.execute(scenario.seedSql(rows));
            s.execute("ANALYZE " + scenario.table);
            out.printf("    loaded %,d rows in %.1f s%n", rows, (System.nanoTime() - t0) / 1e9);
        }
        return new Database(db.jdbcUrl(), "demo_app", "demo_app");
    }

    /** The same transform over the same rows as one bulk statement, on a copy: the baseline of the backfill rate. */
    static double bulkBaseline(Database db, Scenario scenario, PrintStream out) throws SQLException {
        try (Connection c = db.connect("demo-baseline"); Statement s = c.createStatement()) {
            for (String sql : scenario.bulkBaselineSetup()) {
                s.execute(sql);
            }
            s.execute("CHECKPOINT");
            long t0 = System.nanoTime();
            int rows = s.executeUpdate(scenario.bulkBaselineSql());
            double seconds = (System.nanoTime() - t0) / 1e9;
            for (String sql : scenario.bulkBaselineTeardown()) {
                s.execute(sql);
            }
            double rate = rows / seconds;
            out.printf("    bulk baseline: one statement over %,d rows in %.2f s (%,.0f rows/s)%n", rows, seconds, rate);
            return rate;
        }
    }

    static void injectDrift(Database db, Scenario scenario, int n) throws SQLException {
        try (Connection c = db.connect("demo-tamper")) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                for (String sql : scenario.injectDriftSql(n)) {
                    s.execute(sql);
                }
            }
            c.commit();
        }
    }

    /** Waits until the independent check finds no mismatch (sync caught up); returns the last count. */
    static long awaitConverged(Database db, Scenario scenario, Duration timeout) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long mismatches;
        do {
            mismatches = mismatches(db, scenario);
            if (mismatches == 0) {
                return 0;
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return mismatches;
            }
        } while (System.nanoTime() < deadline);
        return mismatches;
    }

    /** Rows where the new shape differs from the transform of the old, by the scenario's hand-written query. */
    static long mismatches(Database db, Scenario scenario) throws SQLException {
        return count(db, scenario.mismatchSql());
    }

    static long count(Database db, String sql) throws SQLException {
        try (Connection c = db.connect("demo-check"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
