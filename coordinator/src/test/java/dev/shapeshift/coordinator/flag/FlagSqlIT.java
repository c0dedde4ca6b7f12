package dev.shapeshift.coordinator.flag;

import static dev.shapeshift.coordinator.Seed.ADMIN;
import static dev.shapeshift.coordinator.Seed.READ;
import static dev.shapeshift.coordinator.Seed.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FlagStore;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Flags for applications in any language: {@code SELECT shapeshift.flag(name)} as an application
 * role (only once granted, never the table itself), and {@code GET /flags/{name}} without a token.
 */
@ExtendWith(PostgresExtension.class)
class FlagSqlIT {
    @Test
    void anApplicationRoleReadsFlagsThroughTheFunctionOnceGranted(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "flagsql");
        String role = "app_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        Seed.sql(db, "CREATE ROLE " + role + " LOGIN PASSWORD 'app-password'");
        Database app = new Database(db.jdbcUrl(), role, "app-password");
        FlagStore flags = new FlagStore(new Catalog(db, "test"));

        // Negative control: a role nobody granted cannot call it.
        assertThatThrownBy(() -> flag(app, "users.read-new")).isInstanceOf(SQLException.class)
                .hasMessageContaining("permission denied");

        flags.grantReader(role, "tester", "the app reads its flag in SQL");
        assertThat(flag(app, "users.read-new")).as("never set").isFalse();
        flags.set("users.read-new", null, true, "tester", "switch");
        assertThat(flag(app, "users.read-new")).isTrue();
        flags.set("users.read-new", null, false, "tester", "back");
        assertThat(flag(app, "users.read-new")).isFalse();
        // The function, not the table: the role still cannot read the catalog.
        try (Connection c = app.connect("app"); PreparedStatement ps = c.prepareStatement("SELECT * FROM shapeshift.flag")) {
            assertThatThrownBy(ps::executeQuery).hasMessageContaining("permission denied");
        }
        flags.grantReader(role, "tester", "again: harmless");
        assertThatThrownBy(() -> flags.grantReader("no_such_role_" + role, "tester", null))
                .isInstanceOf(ShapeshiftException.class).hasMessageContaining("no database role")
                .satisfies(e -> assertThat(((ShapeshiftException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThat(new Catalog(db, "test").auditLog(null, 0, 100)).anySatisfy(a ->
                assertThat(a.action()).isEqualTo("flag reads granted to role " + role));
    }

    @Test
    void theFlagEndpointNeedsNoToken(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "flagapi");
        try (Coordinator coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, ADMIN, READ,
                Duration.ofSeconds(30)), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            int port = coordinator.port();
            JsonNode unset = call(port, "GET", "/flags/users.read-new", null, null).json();
            assertThat(unset.path("value").asBoolean()).isFalse();
            assertThat(unset.path("version").asLong()).isZero();
            new FlagStore(new Catalog(db, "test")).set("users.read-new", null, true, "tester", "switch");
            JsonNode on = call(port, "GET", "/flags/users.read-new", null, null).json();
            assertThat(on.path("value").asBoolean()).isTrue();
            assertThat(on.path("version").asLong()).isEqualTo(1);
            // read-only and nothing more: the API itself still needs a token, and nothing changes a flag here
            assertThat(call(port, "GET", "/api/flags/users.read-new", null, null).status()).isEqualTo(401);
            assertThat(call(port, "PUT", "/flags/users.read-new", null, "{\"value\":false,\"reason\":\"x\"}").status())
                    .isNotEqualTo(200);
            assertThat(call(port, "GET", "/flags/users.read-new", null, null).json().path("value").asBoolean()).isTrue();
        }
    }

    private static boolean flag(Database app, String name) throws SQLException {
        try (Connection c = app.connect("app"); PreparedStatement ps = c.prepareStatement("SELECT shapeshift.flag(?)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
