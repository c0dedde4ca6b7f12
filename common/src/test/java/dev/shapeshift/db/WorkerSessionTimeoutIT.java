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

    /**
     * A worker paused inside a transaction longer than its idle-in-transaction timeout (a GC pause,
     * SIGSTOP, a starved CPU) loses its session; the server rolled the transaction back, so the
     * failure is one to retry on a new session, not a permanent one (a chunk marked failed for good
     * was what the soak found before this classification).
     */
    @Test
    void aSessionEndedForIdlingInATransactionIsRetryable(PostgresServer pg) throws Exception {
        Database db = new Database(pg.jdbcUrl("postgres"), pg.user(), pg.password());
        try (Connection worker = db.connect("worker", Duration.ofSeconds(1))) {
            worker.setAutoCommit(false);
            worker.createStatement().execute("SELECT 1");
            Thread.sleep(3_000); // the pause: the server ends the session after 1 s idle in the transaction
            java.sql.SQLException e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                    () -> worker.createStatement().execute("SELECT 2"));
            dev.shapeshift.error.ShapeshiftException translated = SqlStates.translate("sub-batch", e);
            assertThat(translated.getMessage()).contains("idle-in-transaction");
            assertThat(translated.code()).isEqualTo(dev.shapeshift.error.ErrorCode.UNREACHABLE);
            assertThat(translated.retryable()).isTrue();
        }
    }
}
