package dev.shapeshift.coordinator.api;

import static dev.shapeshift.coordinator.Seed.ADMIN;
import static dev.shapeshift.coordinator.Seed.READ;
import static dev.shapeshift.coordinator.Seed.call;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.Seed.Response;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiIT {
    private Database db;
    private Coordinator coordinator;
    private int port;

    @BeforeAll
    void start(PostgresServer pg) throws SQLException {
        db = Seed.database(pg, "api");
        Seed.migration(db, "users", "backfilling", "5m");
        Seed.migration(db, "orders", "syncing", "5m");
        Seed.migration(db, "payments", "syncing", "5m");
        coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, ADMIN, READ, Duration.ofMillis(200)),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        port = coordinator.port();
    }

    @AfterAll
    void stop() {
        coordinator.close();
    }

    private Response get(String path) {
        return call(port, "GET", path, READ, null);
    }

    @Test
    void tokensAreRequiredAndTheReadTokenCannotChangeAnything() {
        assertThat(call(port, "GET", "/api/migrations", null, null).status()).isEqualTo(401);
        Response bad = call(port, "GET", "/api/migrations", "not-the-token", null);
        assertThat(bad.status()).isEqualTo(401);
        assertThat(bad.json().get("error").asText()).isEqualTo("UNAUTHORIZED");
        assertThat(bad.body()).doesNotContain("not-the-token");
        assertThat(call(port, "POST", "/api/migrations/users/rollback", null, "{\"reason\":\"x\"}").status()).isEqualTo(401);
        assertThat(call(port, "POST", "/api/migrations/users/rollback", "wrong", "{\"reason\":\"x\"}").status()).isEqualTo(401);
        assertThat(get("/api/migrations").status()).isEqualTo(200);
        assertThat(call(port, "GET", "/api/migrations", ADMIN, null).status()).isEqualTo(200);
        Response forbidden = call(port, "POST", "/api/migrations/users/transition", READ,
                "{\"to\":\"backfilled\",\"reason\":\"x\"}");
        assertThat(forbidden.status()).isEqualTo(403);
        assertThat(forbidden.json().get("error").asText()).isEqualTo("FORBIDDEN");
        assertThat(call(port, "PUT", "/api/flags/x", READ, "{\"value\":true,\"reason\":\"x\"}").status()).isEqualTo(403);
        assertThat(call(port, "PUT", "/api/migrations/users/settings", READ, "{\"paused\":true}").status()).isEqualTo(403);
        assertThat(call(port, "GET", "/livez", null, null).status()).isEqualTo(200);
        assertThat(call(port, "GET", "/readyz", null, null).json().get("status").asText()).isEqualTo("ready");
    }

    @Test
    void migrationStatusHasProgressDriftGatesAndSettings() {
        JsonNode all = get("/api/migrations").json();
        List<String> names = new ArrayList<>();
        all.forEach(m -> names.add(m.get("name").asText()));
        assertThat(names).contains("users", "orders");

        JsonNode m = get("/api/migrations/orders").json();
        assertThat(m.get("phase").asText()).isEqualTo("syncing");
        JsonNode p = m.get("progress");
        assertThat(p.get("chunks").asInt()).isEqualTo(4);
        assertThat(p.get("chunksDone").asInt()).isEqualTo(3);
        assertThat(p.get("chunksRunning").asInt()).isEqualTo(1);
        assertThat(p.get("rowsCopied").asLong()).isEqualTo(3000);
        assertThat(p.get("estimatedRows").asLong()).isEqualTo(4000);
        assertThat(m.at("/drift/open/missing").asLong()).isEqualTo(2);
        assertThat(m.at("/drift/open/different").asLong()).isEqualTo(1);
        assertThat(m.at("/drift/open/extra").asLong()).isZero();
        assertThat(m.at("/drift/openTotal").asLong()).isEqualTo(3);
        assertThat(m.at("/sync/lagBytes").isNull()).isTrue();
        assertThat(m.at("/sync/detail").asText()).contains("no replication slot");
        assertThat(m.at("/lastReconcileRun/id").asLong()).isEqualTo(8);
        assertThat(m.at("/settings/paused").asBoolean()).isFalse();
        assertThat(m.get("flag").isNull()).isTrue();
        JsonNode gate = m.get("gates").get(0);
        assertThat(gate.get("to").asText()).isEqualTo("backfilling");
        assertThat(gate.at("/checks/0/name").asText()).isEqualTo("sync-started");
        assertThat(gate.at("/checks/0/passed").asBoolean()).isFalse();
        assertThat(m.get("timeline").get(0).get("to").asText()).isEqualTo("planned");

        Response missing = get("/api/migrations/nope");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().get("error").asText()).isEqualTo("NOT_FOUND");
        assertThat(get("/api/nothing-here").status()).isEqualTo(404);
    }

    @Test
    void closedGateIsRefusedWith409NamingTheCheckAndAnOpenOneIsAudited() throws SQLException {
        Response refused = call(port, "POST", "/api/migrations/users/transition", ADMIN,
                "{\"to\":\"backfilled\",\"reason\":\"looks done\"}");
        assertThat(refused.status()).isEqualTo(409);
        JsonNode r = refused.json();
        assertThat(r.get("error").asText()).isEqualTo("GATE_CLOSED");
        assertThat(r.get("message").asText()).contains("backfill-done").contains("3/4 chunks");
        assertThat(r.at("/gate/checks/0/passed").asBoolean()).isFalse();

        Seed.sql(db, "UPDATE shapeshift.chunk SET status = 'done', rows_copied = 1000, finished_at = now() "
                + "WHERE migration = 'users'");
        Response ok = call(port, "POST", "/api/migrations/users/transition", ADMIN,
                "{\"to\":\"backfilled\",\"reason\":\"all chunks done\",\"actor\":\"alice\"}");
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.json().get("phase").asText()).isEqualTo("backfilled");

        // verified needs lag, a reconcile run after the backfill and zero open drift: all missing here.
        Response verify = call(port, "POST", "/api/migrations/users/transition", ADMIN,
                "{\"to\":\"verified\",\"reason\":\"try\"}");
        assertThat(verify.status()).isEqualTo(409);
        assertThat(verify.json().get("message").asText()).contains("sync-lag").contains("reconciled").contains("drift-open")
                .doesNotContain("backfill-done");

        JsonNode audit = get("/api/audit?migration=users").json().get("items");
        JsonNode last = audit.get(audit.size() - 1);
        assertThat(last.get("action").asText()).isEqualTo("transition");
        assertThat(last.get("fromPhase").asText()).isEqualTo("backfilling");
        assertThat(last.get("toPhase").asText()).isEqualTo("backfilled");
        assertThat(last.get("actor").asText()).isEqualTo("api:alice");
        assertThat(last.get("reason").asText()).isEqualTo("all chunks done");
        JsonNode page = get("/api/audit?migration=users&limit=1").json();
        assertThat(page.get("items")).hasSize(1);
        assertThat(get("/api/audit?migration=users&after=" + page.get("next").asLong()).json().get("items").get(0)
                .get("id").asLong()).isGreaterThan(page.get("next").asLong());

        assertThat(call(port, "POST", "/api/migrations/users/transition", ADMIN, "{\"to\":\"sideways\",\"reason\":\"x\"}")
                .status()).isEqualTo(400);
        assertThat(call(port, "POST", "/api/migrations/users/transition", ADMIN, "{\"to\":\"contracted\",\"reason\":\"x\"}")
                .json().get("error").asText()).isEqualTo("ILLEGAL_TRANSITION");
        assertThat(call(port, "POST", "/api/migrations/users/transition", ADMIN, "{not json").status()).isEqualTo(400);
        assertThat(call(port, "POST", "/api/migrations/users/transition", ADMIN, "{\"to\":\"verified\"}").status())
                .isEqualTo(400);
    }

    @Test
    void rollbackRecordsWhyAndTurnsTheFlagOff() {
        Response r = call(port, "POST", "/api/migrations/payments/rollback", ADMIN, "{\"reason\":\"bad transform\"}");
        assertThat(r.status()).isEqualTo(200);
        JsonNode m = r.json();
        assertThat(m.get("phase").asText()).isEqualTo("rolled-back");
        assertThat(m.get("message").asText()).isEqualTo("bad transform");
        assertThat(m.at("/flag/name").asText()).isEqualTo("payments.read-new");
        assertThat(m.at("/flag/value").asBoolean()).isFalse();
        assertThat(call(port, "POST", "/api/migrations/payments/rollback", ADMIN, "{\"reason\":\"again\"}").status())
                .isEqualTo(409);
        assertThat(call(port, "POST", "/api/migrations/payments/rollback", ADMIN, "{}").status()).isEqualTo(400);
    }

    @Test
    void settingsAreReadAndChanged() {
        assertThat(get("/api/migrations/users/settings").json().get("paused").asBoolean()).isFalse();
        Response put = call(port, "PUT", "/api/migrations/users/settings", ADMIN,
                "{\"paused\":true,\"maxRowsPerSecond\":500,\"reason\":\"peak hours\"}");
        assertThat(put.status()).isEqualTo(200);
        assertThat(put.json().get("paused").asBoolean()).isTrue();
        assertThat(put.json().get("maxRowsPerSecond").asLong()).isEqualTo(500);
        assertThat(get("/api/migrations/users").json().at("/settings/maxRowsPerSecond").asLong()).isEqualTo(500);
        assertThat(call(port, "PUT", "/api/migrations/users/settings", ADMIN, "{\"maxRowsPerSecond\":-1}").status())
                .isEqualTo(400);
        assertThat(call(port, "PUT", "/api/migrations/users/settings", ADMIN, "{\"paused\":\"yes\"}").status())
                .isEqualTo(400);
        assertThat(call(port, "PUT", "/api/migrations/users/settings", ADMIN, "{\"paused\":false}").json()
                .get("paused").asBoolean()).isFalse();
        // The load caps (docs/throttling.md), by their JSON or their setting names; unknown-only bodies name the knobs.
        Response load = call(port, "PUT", "/api/migrations/users/settings", ADMIN,
                "{\"maxActiveBackends\":30,\"max-app-latency-ms\":12,\"reason\":\"cap the cost\"}");
        assertThat(load.status()).isEqualTo(200);
        assertThat(load.json().get("maxActiveBackends").asLong()).isEqualTo(30);
        assertThat(load.json().get("maxAppLatencyMs").asLong()).isEqualTo(12);
        assertThat(load.json().get("maxRowsPerSecond").asLong()).isEqualTo(500);
        Response none = call(port, "PUT", "/api/migrations/users/settings", ADMIN, "{\"maxLoad\":3}");
        assertThat(none.status()).isEqualTo(400);
        assertThat(none.body()).contains("maxActiveBackends", "maxAppLatencyMs");
        assertThat(call(port, "PUT", "/api/migrations/users/settings", ADMIN, "{\"maxActiveBackends\":1.5}").status())
                .isEqualTo(400);
    }

    @Test
    void failedChunksAreRetriedByAnOperator() throws SQLException {
        Seed.sql(db, "UPDATE shapeshift.chunk SET status = 'failed', error = 'value too long' "
                + "WHERE migration = 'payments' AND chunk_no = 3");
        assertThat(call(port, "POST", "/api/migrations/payments/backfill/retry", READ, "{}").status()).isEqualTo(403);
        Response notFailed = call(port, "POST", "/api/migrations/payments/backfill/retry", ADMIN, "{\"chunks\":[0]}");
        assertThat(notFailed.status()).isEqualTo(400);
        assertThat(notFailed.body()).contains("chunk 0 is done").contains("[3]");
        assertThat(call(port, "POST", "/api/migrations/payments/backfill/retry", ADMIN, "{\"chunks\":\"3\"}").status())
                .isEqualTo(400);
        Response retried = call(port, "POST", "/api/migrations/payments/backfill/retry", ADMIN,
                "{\"chunks\":[3],\"reason\":\"column widened\",\"actor\":\"alice\"}");
        assertThat(retried.status()).isEqualTo(200);
        assertThat(retried.json().at("/retried/0/chunk").asInt()).isEqualTo(3);
        assertThat(retried.json().at("/retried/0/error").asText()).isEqualTo("value too long");
        JsonNode audit = get("/api/audit?migration=payments").json().get("items");
        JsonNode last = audit.get(audit.size() - 1);
        assertThat(last.get("action").asText()).isEqualTo(dev.shapeshift.catalog.ChunkStore.RETRY_ACTION);
        assertThat(last.get("actor").asText()).isEqualTo("api:alice");
        assertThat(last.get("reason").asText()).contains("column widened").contains("chunk 3 (was: value too long)");
        assertThat(call(port, "POST", "/api/migrations/payments/backfill/retry", ADMIN, "{}").json().get("retried"))
                .as("nothing failed any more").isEmpty();
    }

    @Test
    void driftIsPagedAndRunsAreListed() {
        JsonNode first = get("/api/migrations/users/drift?limit=2").json();
        assertThat(first.get("items")).hasSize(2);
        assertThat(first.at("/items/0/key").asText()).isEqualTo("[\"11\"]");
        assertThat(first.at("/items/0/kind").asText()).isEqualTo("missing");
        String next = first.get("next").asText();
        JsonNode second = get("/api/migrations/users/drift?limit=2&after="
                + java.net.URLEncoder.encode(next, java.nio.charset.StandardCharsets.UTF_8)).json();
        assertThat(second.get("items")).hasSize(1);
        assertThat(second.at("/items/0/kind").asText()).isEqualTo("different");
        assertThat(second.get("next").isNull()).isTrue();
        assertThat(get("/api/migrations/users/drift?status=all").json().get("items")).hasSize(4);
        assertThat(get("/api/migrations/users/drift?limit=0").status()).isEqualTo(400);
        assertThat(get("/api/migrations/users/drift?after=oops").status()).isEqualTo(400);

        JsonNode runs = get("/api/migrations/users/reconcile-runs").json();
        assertThat(runs.get(0).get("id").asLong()).isEqualTo(7);
        assertThat(runs.get(0).get("driftFound").asLong()).isEqualTo(3);
    }

    @Test
    void flagFlipIncrementsVersionAndIsAudited() {
        assertThat(get("/api/flags/checkout.read-new").status()).isEqualTo(404);
        JsonNode v1 = call(port, "PUT", "/api/flags/checkout.read-new", ADMIN, "{\"value\":true,\"reason\":\"canary\"}").json();
        assertThat(v1.get("value").asBoolean()).isTrue();
        assertThat(v1.get("version").asLong()).isEqualTo(1);
        JsonNode v2 = call(port, "PUT", "/api/flags/checkout.read-new", ADMIN, "{\"value\":false,\"reason\":\"flip back\"}").json();
        assertThat(v2.get("version").asLong()).isEqualTo(2);
        JsonNode got = get("/api/flags/checkout.read-new").json();
        assertThat(got.get("value").asBoolean()).isFalse();
        assertThat(got.get("changedBy").asText()).isEqualTo("api");
        assertThat(call(port, "PUT", "/api/flags/checkout.read-new", ADMIN, "{\"value\":\"on\",\"reason\":\"x\"}").status())
                .isEqualTo(400);
        JsonNode audit = get("/api/audit?limit=1000").json().get("items");
        assertThat(audit.findValuesAsText("action")).contains("flag checkout.read-new=false (version 2)");
    }

    @Test
    void metricsExportPhaseProgressAndDrift() throws InterruptedException {
        String text = "";
        for (int i = 0; i < 50 && !text.contains("shapeshift_migration_phase"); i++) {
            Thread.sleep(100);
            text = call(port, "GET", "/metrics", null, null).body();
        }
        assertThat(text).contains("shapeshift_migration_phase{migration=\"users\",phase=\"backfilling\"} 1.0")
                .contains("shapeshift_migration_phase{migration=\"orders\",phase=\"syncing\"} 1.0")
                .contains("shapeshift_migration_backfill_chunks_planned{migration=\"users\"} 4.0")
                .contains("shapeshift_migration_drift_open{kind=\"missing\",migration=\"users\"} 2.0")
                .contains("shapeshift_migration_sync_lag_max_seconds{migration=\"users\"} 5.0")
                .contains("shapeshift_migration_slot_lag_bytes")
                .doesNotContain("shapeshift_drift_open").doesNotContain("_chunks_total_chunks");
    }
}
