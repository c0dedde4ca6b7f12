package dev.shapeshift.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Leadership#checkEvery}: the lock session is checked on its own thread, so a leader learns
 * of a lost lock without asking, while its own thread is busy elsewhere (in the bridge, a watch
 * round stuck behind the same partition; NetworkFaultIT proves that one end to end). Here nobody
 * calls {@link Leadership#held} until the loss is already recorded: without the check thread
 * {@link Leadership#lastLoss} stays null and the await fails.
 */
@ExtendWith(PostgresExtension.class)
class LeadershipIT {
    @Test
    void theCheckThreadNoticesALostLockWithoutTheLeaderAsking(PostgresServer pg) throws Exception {
        Database db = new Database(pg.jdbcUrl("postgres"), pg.user(), pg.password());
        String role = "leadership-it-" + System.nanoTime();
        try (Leadership leader = new Leadership(db, "leadership-it/" + role, role);
             Leadership standby = new Leadership(db, "leadership-it/" + role, role + "-standby");
             Connection admin = db.connect("test")) {
            leader.checkEvery(Duration.ofMillis(200));
            assertThat(leader.tryAcquire()).isTrue();
            assertThat(standby.tryAcquire()).as("one leader at a time").isFalse();
            assertThat(leader.held()).isTrue();
            assertThat(leader.lastLoss()).isNull();

            try (Statement s = admin.createStatement()) {
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"
                        + Database.APPLICATION_PREFIX + role + "'");
            }
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> leader.lastLoss() != null);
            assertThat(leader.held()).as("answers the check's verdict").isFalse();
            assertThat(standby.tryAcquire()).as("the server released the lock with the session").isTrue();
            assertThat(leader.tryAcquire()).as("the old leader waits for its turn").isFalse();
        }
    }
}
