package dev.shapeshift.launcher.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The soak's final checks have teeth: on pgbench's tables (same columns, filled by this test's
 * own deltas, no pgbench needed) they find nothing when the new column is right and exactly the
 * account that one lost update left wrong — before the contract, and after it dropped the old column.
 */
@ExtendWith(PostgresExtension.class)
class SoakChecksIT {

    @Test
    void theChecksFindALostUpdateBeforeAndAfterTheContract(PostgresServer pg) throws Exception {
        String url = pg.jdbcUrl(pg.createDatabase("soak_checks"));
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE pgbench_accounts (aid integer PRIMARY KEY, bid integer, abalance integer, filler char(84))");
            s.execute("CREATE TABLE pgbench_history (tid integer, bid integer, aid integer, delta integer, mtime timestamp, "
                    + "filler char(22))");
            s.execute("INSERT INTO pgbench_accounts SELECT g, 1, 0, '' FROM generate_series(1, 100) g");
            // TPC-B's transaction: an account's balance moves by the delta its history row records.
            s.execute("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) SELECT 1, 1, 1 + (g * 37) % 100, "
                    + "(g * 7919) % 10001 - 5000, now() FROM generate_series(1, 1000) g");
            s.execute("UPDATE pgbench_accounts a SET abalance = h.d FROM (SELECT aid, sum(delta) AS d FROM pgbench_history "
                    + "GROUP BY aid) h WHERE h.aid = a.aid");
            s.execute("ALTER TABLE pgbench_accounts ADD COLUMN abalance_cents bigint");
            s.execute("UPDATE pgbench_accounts SET abalance_cents = abalance::bigint * 100");
            assertThat(count(s, SoakBench.WRONG)).isZero();
            assertThat(count(s, SoakBench.WRONG_BY_HISTORY)).isZero();

            // One update the sync lost: the old column moved, the new one did not.
            s.execute("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 7, 250, now())");
            s.execute("UPDATE pgbench_accounts SET abalance = abalance + 250 WHERE aid = 7");
            assertThat(count(s, SoakBench.WRONG)).isEqualTo(1);
            assertThat(count(s, SoakBench.WRONG_BY_HISTORY)).isEqualTo(1);

            s.execute("ALTER TABLE pgbench_accounts DROP COLUMN abalance");
            assertThat(count(s, SoakBench.WRONG_BY_HISTORY)).as("after the contract").isEqualTo(1);
        }
    }

    private static long count(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
