package dev.shapeshift.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Worker sessions (sub-batches, refreshes: every statement bounded) give a silent connection up
 * after {@link Database#WORKER_SOCKET_TIMEOUT}; leader-lock sessions after
 * {@link Leadership#SOCKET_TIMEOUT}, with the server's TCP keepalives set; other sessions (DDL,
 * VACUUM, reconcile scans) have no socket timeout; a {@code socketTimeout} in the JDBC URL wins. What a silent partition does to
 * the workers is NetworkFaultIT's (scenarios).
 */
@ExtendWith(PostgresExtension.class)
class WorkerSessionTimeoutIT {
    @Test
    void workerSessionsHaveTheSocketTimeoutOthersNone(PostgresServer pg) throws Exception {
        Database db = new Database(pg.jdbcUrl("postgres"), pg.user(), pg.password());
        try (Connection worker = db.connect("worker", Duration.ofSeconds(5));
             Connection other = db.connect("coordinator")) {
            assertThat(worker.getNetworkTimeout()).isEqualTo((int) Database.WORKER_SOCKET_TIMEOUT.toMillis());
            assertThat(other.getNetworkTimeout()).as("long statements: no bound").isZero();
        }
        Database fromUrl = new Database(pg.jdbcUrl("postgres") + "?socketTimeout=7", pg.user(), pg.password());
        try (Connection worker = fromUrl.connect("worker", Duration.ofSeconds(5))) {
            assertThat(worker.getNetworkTimeout()).as("the URL's setting wins").isEqualTo(7000);
        }
    }

    @Test
    void leaderLockSessionsHaveASocketTimeoutAndServerKeepalives(PostgresServer pg) throws Exception {
        Database db = new Database(pg.jdbcUrl("postgres"), pg.user(), pg.password());
        try (Connection lock = Leadership.connect(db, "test-leader"); java.sql.Statement s = lock.createStatement()) {
            assertThat(lock.getNetworkTimeout()).isEqualTo((int) Leadership.SOCKET_TIMEOUT.toMillis());
            for (String[] setting : new String[][] {{"tcp_keepalives_idle", "10"}, {"tcp_keepalives_interval", "5"},
                    {"tcp_keepalives_count", "3"}}) {
                try (java.sql.ResultSet rs = s.executeQuery("SHOW " + setting[0])) {
                    rs.next();
                    assertThat(rs.getString(1)).as(setting[0]).isEqualTo(setting[1]);
                }
            }
        }
    }
}
