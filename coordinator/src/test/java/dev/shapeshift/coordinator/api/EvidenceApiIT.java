package dev.shapeshift.coordinator.api;

import static dev.shapeshift.coordinator.Seed.ADMIN;
import static dev.shapeshift.coordinator.Seed.READ;
import static dev.shapeshift.coordinator.Seed.call;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.Seed.Response;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code GET /api/migrations/NAME/evidence} is the evidence `shapeshift evidence` prints; the brownout can be ended over the API. */
@ExtendWith(PostgresExtension.class)
class EvidenceApiIT {
    @Test
    void theEvidenceIsServedWithEveryCheckAndTheBrownoutEndpointNeedsTheAdminTokenAndAReason(PostgresServer pg)
            throws Exception {
        Database db = Seed.database(pg, "evidence_api");
        String reader = "reader_" + Long.toHexString(System.nanoTime());
        Seed.sql(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_email text, email2 text)",
                "CREATE ROLE " + reader + " LOGIN PASSWORD 'x'", "GRANT SELECT ON users TO " + reader);
        new Catalog(db, "test").create("users-email", "{\"name\":\"users-email\",\"source\":{\"table\":\"users\"},"
                + "\"mode\":\"in-place\",\"target\":{\"columns\":[{\"name\":\"email2\",\"type\":\"text\",\"transform\":"
                + "\"legacy_email\"}]},\"contract\":{\"dropColumns\":[\"legacy_email\"],\"quietPeriod\":\"1h\","
                + "\"brownout\":\"15m\"}}", "test", "test");
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'reads-switched' WHERE name = 'users-email'");
        try (Coordinator coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, ADMIN, READ,
                Duration.ofMillis(200)), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            int port = coordinator.port();
            Response r = call(port, "GET", "/api/migrations/users-email/evidence", READ, null);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            JsonNode e = r.json();
            assertThat(e.get("watched").asText()).isEqualTo("public.users(legacy_email)");
            List<String> checks = new ArrayList<>();
            e.get("checks").forEach(c -> checks.add(c.get("name").asText()));
            assertThat(checks).contains("old-shape-quiet", "old-shape-dependents", "brownout");
            assertThat(e.get("brownout").get("windowSeconds").asDouble()).isEqualTo(900.0);
            assertThat(e.get("replicas").isArray()).isTrue();
            assertThat(e.get("readers").isArray()).isTrue();
            assertThat(call(port, "GET", "/api/migrations/nope/evidence", READ, null).status()).isEqualTo(404);

            assertThat(call(port, "POST", "/api/migrations/users-email/brownout/end", READ, "{\"reason\":\"x\"}").status())
                    .isEqualTo(403);
            assertThat(call(port, "POST", "/api/migrations/users-email/brownout/end", ADMIN, "{}").status()).isEqualTo(400);
            Response none = call(port, "POST", "/api/migrations/users-email/brownout/end", ADMIN, "{\"reason\":\"alerts\"}");
            assertThat(none.status()).as(none.body()).isEqualTo(200);
            assertThat(none.json().get("brownout").asText()).isEqualTo("none");
        }
    }
}
