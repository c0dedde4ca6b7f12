package dev.shapeshift.coordinator.api;

import static dev.shapeshift.coordinator.Seed.ADMIN;
import static dev.shapeshift.coordinator.Seed.READ;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** POST /api/migrations: 201 created, 200 unchanged, 400 invalid, 409 conflicting, 401, 403, 415. */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegisterApiIT {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String SPEC = """
            name: orders-total
            source:
              table: orders
            target:
              columns:
                - name: total_cents
                  type: bigint
                  transform: round(total * 100)::bigint
            """;

    private Database db;
    private Coordinator coordinator;

    @BeforeAll
    void start(PostgresServer pg) throws Exception {
        db = Seed.database(pg, "registerapi");
        Seed.sql(db, "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2))");
        coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, ADMIN, READ, Duration.ofSeconds(1)),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    @AfterAll
    void stop() {
        coordinator.close();
    }

    @Test
    void registersOnceThenSaysUnchangedAndRefusesChangesAndBadSpecs() throws Exception {
        assertThat(post(null, "application/yaml", SPEC).status()).isEqualTo(401);
        Seed.Response forbidden = post(READ, "application/yaml", SPEC);
        assertThat(forbidden.status()).isEqualTo(403);
        assertThat(count()).isZero();
        assertThat(post(ADMIN, "application/json", "{}").status()).isEqualTo(415);

        Seed.Response created = post(ADMIN, "application/yaml", SPEC, "?file=orders.yaml&actor=alice");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(created.json().get("outcome").asText()).isEqualTo("CREATED");
        assertThat(created.json().get("phase").asText()).isEqualTo("planned");
        assertThat(count()).isEqualTo(1);
        assertThat(created.json().get("message").asText()).contains("registered from orders.yaml");
        assertThat(actors()).isEqualTo("api:alice");

        Seed.Response again = post(ADMIN, "text/plain; charset=utf-8", SPEC);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("outcome").asText()).isEqualTo("UNCHANGED");
        assertThat(again.json().get("message").asText()).contains("nothing changed");

        Seed.Response conflict = post(ADMIN, "application/yaml", SPEC.replace("type: bigint", "type: numeric"));
        assertThat(conflict.status()).isEqualTo(409);
        assertThat(conflict.json().get("error").asText()).isEqualTo("CONFLICT");
        assertThat(conflict.json().get("differences").toString()).isEqualTo("[\"target.columns[0].type (\\\"bigint\\\" → \\\"numeric\\\")\"]");

        Seed.Response invalid = post(ADMIN, "application/yaml", SPEC.replace("orders-total", "orders-total-2")
                .replace("round(total", "round(totl"));
        assertThat(invalid.status()).isEqualTo(400);
        JsonNode body = invalid.json();
        assertThat(body.get("error").asText()).isEqualTo("SPEC_INVALID");
        assertThat(body.at("/problems/0/path").asText()).isEqualTo("target.columns[0].transform");
        assertThat(body.at("/problems/0/message").asText()).contains("totl");
        assertThat(body.at("/problems/0/fix").asText()).isNotBlank();

        Seed.Response malformed = post(ADMIN, "application/yaml", "name: [");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.json().get("message").asText()).startsWith("request body:");
        assertThat(count()).isEqualTo(1);
    }

    private Seed.Response post(String token, String contentType, String body) throws IOException, InterruptedException {
        return post(token, contentType, body, "");
    }

    private Seed.Response post(String token, String contentType, String body, String query)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + coordinator.port()
                        + "/api/migrations" + query))
                .header("content-type", contentType).POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Seed.Response(r.statusCode(), r.body());
    }

    private String actors() throws Exception {
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT string_agg(DISTINCT actor, ',') FROM shapeshift.audit")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private long count() throws Exception {
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM shapeshift.migration")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
