package dev.shapeshift.coordinator.status;

import static dev.shapeshift.coordinator.Seed.ADMIN;
import static dev.shapeshift.coordinator.Seed.READ;
import static dev.shapeshift.coordinator.Seed.call;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Leadership;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The dashboard's history in the catalog: one sample per interval however often (and by however
 * many coordinators) the status loop runs, pruned by age, served by the API with the bridge's
 * leader as PostgreSQL sees it.
 */
@ExtendWith(PostgresExtension.class)
class HistoryIT {
    @Test
    void oneSamplePerIntervalEvenFromTwoCoordinatorsAndPrunedByAge(PostgresServer pg) throws Exception {
        Users users = users(pg, "history", "backfilling");
        Database db = users.db();
        StatusReader status = users.status();
        History first = new History(users.catalog(), Duration.ofHours(1));
        History second = new History(users.catalog(), Duration.ofHours(1));
        for (int i = 0; i < 3; i++) {
            first.record(status.all());
            second.record(status.all());
        }
        assertThat(count(db, "")).isEqualTo(1);
        // negative control: without the interval guard every call is a sample
        History unguarded = new History(users.catalog(), Duration.ZERO);
        unguarded.record(status.all());
        unguarded.record(status.all());
        assertThat(count(db, "")).isEqualTo(3);
        assertThat(count(db, " AND drift_open = 3 AND drift_found = 4 AND drift_repaired = 1 AND rows_copied = 3000 "
                + "AND chunks_done = 3 AND chunks_total = 4 AND phase = 'backfilling'")).isEqualTo(3);

        Seed.sql(db, "UPDATE shapeshift.status_history SET at = at - interval '4 days' WHERE at = (SELECT min(at) "
                + "FROM shapeshift.status_history)");
        try (Connection c = db.connect("test")) {
            assertThat(History.prune(c, History.KEEP)).isEqualTo(1);
        }
        assertThat(count(db, "")).isEqualTo(2);
    }

    @Test
    void aFinishedMigrationGetsOneLastSampleOnly(PostgresServer pg) throws Exception {
        Users users = users(pg, "history_done", "contracted");
        History history = new History(users.catalog(), Duration.ZERO);
        for (int i = 0; i < 3; i++) {
            history.record(users.status().all());
        }
        assertThat(count(users.db(), "")).isEqualTo(1);
    }

    /** A database whose one migration, {@code users}, is seeded in a phase: its catalog and status reader. */
    private record Users(Database db, Catalog catalog, StatusReader status) {
    }

    private static Users users(PostgresServer pg, String prefix, String phase) throws SQLException {
        Database db = Seed.database(pg, prefix);
        Seed.migration(db, "users", phase, "5m");
        Catalog catalog = new Catalog(db, "test");
        return new Users(db, catalog, new StatusReader(catalog, new Gates()));
    }

    @Test
    void theApiServesTheWindowAndTheBridgeLeader(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "history_api");
        Seed.migration(db, "users", "syncing", "5m");
        Seed.sql(db, "UPDATE shapeshift.migration SET slot_name = 'shapeshift_users' WHERE name = 'users'",
                "INSERT INTO shapeshift.status_history (migration, at, phase, drift_open, drift_found, drift_repaired, "
                        + "rows_copied, rows_per_second, chunks_done, chunks_total, streams_running, streams_stopped) "
                        + "SELECT 'users', now() - i * interval '1 minute', 'syncing', 0, 0, 0, 0, 0, 0, 4, 1, 0 "
                        + "FROM generate_series(1, 120) i");
        try (Coordinator coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, ADMIN, READ,
                Duration.ofSeconds(30)), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
             Leadership bridge = new Leadership(db, "shapeshift.bridge/shapeshift_users", "cdc-bridge-leader")) {
            int port = coordinator.port();
            assertThat(call(port, "GET", "/api/migrations/users/history", null, null).status()).isEqualTo(401);
            JsonNode hour = call(port, "GET", "/api/migrations/users/history", READ, null).json();
            // 59 seeded samples within the hour, plus the one the coordinator recorded at start
            assertThat(hour.path("series").path("at").size()).isBetween(59, 60);
            assertThat(hour.path("windowSeconds").asLong()).isEqualTo(3600);
            JsonNode quarter = call(port, "GET", "/api/migrations/users/history?window=15m", READ, null).json();
            assertThat(quarter.path("series").path("at").size()).isBetween(14, 15);
            assertThat(quarter.path("health").path("bridge").path("leader").isNull()).isTrue();

            assertThat(bridge.tryAcquire()).isTrue();
            JsonNode led = call(port, "GET", "/api/migrations/users/history?window=15m", READ, null).json();
            assertThat(led.path("health").path("bridge").path("leader").path("pid").asInt()).isEqualTo(backendPid(db));
            assertThat(led.path("health").path("bridge").path("bridgeSessions").asInt()).isEqualTo(1);

            JsonNode bad = call(port, "GET", "/api/migrations/users/history?window=9d", READ, null).json();
            assertThat(bad.path("error").asText()).isEqualTo("BAD_REQUEST");
            assertThat(bad.path("message").asText()).contains("at most 3d");
            assertThat(call(port, "GET", "/api/migrations/users/history?window=soon", READ, null).status()).isEqualTo(400);
            assertThat(call(port, "GET", "/api/migrations/nope/history", READ, null).status()).isEqualTo(404);
        }
    }

    private static int backendPid(Database db) throws SQLException {
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pid FROM pg_stat_activity WHERE application_name = "
                     + "'shapeshift-cdc-bridge-leader' AND datname = current_database()")) {
            assertThat(rs.next()).isTrue();
            return rs.getInt(1);
        }
    }

    private static long count(Database db, String where) throws SQLException {
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM shapeshift.status_history WHERE migration = 'users'" + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
