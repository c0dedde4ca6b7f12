package dev.shapeshift.openfeature;

import static org.assertj.core.api.Assertions.assertThat;

import dev.openfeature.sdk.Client;
import dev.openfeature.sdk.ErrorCode;
import dev.openfeature.sdk.FlagEvaluationDetails;
import dev.openfeature.sdk.OpenFeatureAPI;
import dev.openfeature.sdk.Reason;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.FlagStore;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.flag.FlagClient;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The provider through the OpenFeature SDK's client, against flags in a real catalog: values and
 * flips, a flag never set, a non-boolean request, and the catalog unreachable (before any read, and
 * after one). Flips are made visible with {@link FlagClient#refresh()}, not by waiting.
 */
@ExtendWith(PostgresExtension.class)
class ShapeshiftProviderIT {

    /** Long enough that only the test's own refresh() calls move values while the catalog is healthy. */
    private static final FlagClient.Options QUIET = new FlagClient.Options(Duration.ofHours(1), Duration.ofHours(1));

    private final PostgresServer pg;

    ShapeshiftProviderIT(PostgresServer pg) {
        this.pg = pg;
    }

    @Test
    void servesTheCatalogsFlagsAsBooleans() {
        Database db = catalog("openfeature");
        FlagStore store = flagStore(db);
        store.set("users.read-new", "users", true, "test", "switch reads");
        try (FlagClient flags = new FlagClient(db, QUIET)) {
            Client client = client(new ShapeshiftProvider(flags));

            FlagEvaluationDetails<Boolean> on = client.getBooleanDetails("users.read-new", false);
            assertThat(on.getValue()).isTrue();
            assertThat(on.getReason()).isEqualTo(Reason.CACHED.toString());
            assertThat(on.getVariant()).isEqualTo("on");
            assertThat(on.getErrorCode()).isNull();
            assertThat(on.getFlagMetadata().getLong("version")).isEqualTo(1L);

            store.set("users.read-new", "users", false, "test", "back to the old shape");
            assertThat(client.getBooleanValue("users.read-new", true)).as("not re-read yet").isTrue();
            assertThat(flags.refresh()).isTrue();
            FlagEvaluationDetails<Boolean> off = client.getBooleanDetails("users.read-new", true);
            assertThat(off.getValue()).isFalse();
            assertThat(off.getVariant()).isEqualTo("off");
            assertThat(off.getFlagMetadata().getLong("version")).isEqualTo(2L);

            FlagEvaluationDetails<Boolean> missing = client.getBooleanDetails("users.write-new", true);
            assertThat(missing.getValue()).as("the caller's default").isTrue();
            assertThat(missing.getErrorCode()).isEqualTo(ErrorCode.FLAG_NOT_FOUND);
            assertThat(missing.getReason()).isEqualTo(Reason.ERROR.toString());

            store.set("users.write-new", "users", true, "test", "switch writes");
            assertThat(flags.refresh()).isTrue();
            assertThat(client.getBooleanDetails("users.write-new", false).getValue()).as("found once set").isTrue();

            FlagEvaluationDetails<String> text = client.getStringDetails("users.read-new", "old");
            assertThat(text.getValue()).isEqualTo("old");
            assertThat(text.getErrorCode()).isEqualTo(ErrorCode.TYPE_MISMATCH);
        }
    }

    @Test
    void aCatalogNeverReachedGivesTheDefaultWithAnError() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Database nowhere = new Database("jdbc:postgresql://127.0.0.1:" + closed + "/app", "app", "secret");
        try (FlagClient flags = new FlagClient(nowhere, QUIET)) {
            Client client = client(new ShapeshiftProvider(flags));

            for (boolean fallback : new boolean[] {false, true}) {
                FlagEvaluationDetails<Boolean> d = client.getBooleanDetails("users.read-new", fallback);
                assertThat(d.getValue()).isEqualTo(fallback);
                assertThat(d.getErrorCode()).isEqualTo(ErrorCode.GENERAL);
                assertThat(d.getReason()).isEqualTo(Reason.ERROR.toString());
                assertThat(d.getFlagMetadata().getBoolean("lastKnownValue")).as("nothing was ever read").isNull();
            }
        }
    }

    @Test
    void aCatalogLostAfterAReadGivesTheDefaultAndTheLastKnownValueInTheMetadata() throws Exception {
        Database admin = catalog("openfeature_outage");
        String role = "of_app_" + Long.toHexString(System.nanoTime());
        sql(admin, "CREATE ROLE " + role + " LOGIN PASSWORD 'app-secret'",
                "GRANT USAGE ON SCHEMA shapeshift TO " + role, "GRANT SELECT ON shapeshift.flag TO " + role);
        flagStore(admin).set("users.read-new", "users", true, "test", "switch reads");
        Database app = new Database(admin.jdbcUrl(), role, "app-secret");
        try (FlagClient flags = new FlagClient(app, new FlagClient.Options(Duration.ofMillis(250), Duration.ofSeconds(2)))) {
            Client client = client(new ShapeshiftProvider(flags));
            assertThat(client.getBooleanValue("users.read-new", false)).isTrue();

            sql(admin, "ALTER ROLE " + role + " NOLOGIN",
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "'");
            assertThat(flags.refresh()).as("the catalog is unreachable for the client").isFalse();
            awaitStale(flags, "users.read-new");

            FlagEvaluationDetails<Boolean> d = client.getBooleanDetails("users.read-new", false);
            assertThat(d.getValue()).as("the caller's default").isFalse();
            assertThat(d.getErrorCode()).isEqualTo(ErrorCode.GENERAL);
            assertThat(d.getReason()).isEqualTo(Reason.ERROR.toString());
            assertThat(d.getFlagMetadata().getBoolean("lastKnownValue")).isTrue();
            assertThat(d.getFlagMetadata().getLong("version")).isEqualTo(1L);

            sql(admin, "ALTER ROLE " + role + " LOGIN");
            assertThat(flags.refresh()).isTrue();
            FlagEvaluationDetails<Boolean> back = client.getBooleanDetails("users.read-new", false);
            assertThat(back.getValue()).isTrue();
            assertThat(back.getErrorCode()).isNull();
        } finally {
            sql(admin, "DROP OWNED BY " + role, "DROP ROLE " + role);
        }
    }

    /** Waits (no bound asserted) until the client reports the flag stale; fails after a minute. */
    private static void awaitStale(FlagClient flags, String name) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (!flags.value(name).stale()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " never turned stale while the catalog was unreachable");
            }
            Thread.sleep(50);
        }
    }

    private Database catalog(String prefix) {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase(prefix)), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        return db;
    }

    /** The flags of migration {@code users}, registered as a migration so the flags may name it. */
    private static FlagStore flagStore(Database db) {
        Catalog catalog = new Catalog(db, "test");
        catalog.create("users", "{}", "users.yaml", "test");
        return new FlagStore(catalog);
    }

    /** A client of a domain of its own, so tests do not share the global provider. */
    private static Client client(ShapeshiftProvider provider) {
        String domain = "shapeshift-" + UUID.randomUUID();
        OpenFeatureAPI.getInstance().setProviderAndWait(domain, provider);
        return OpenFeatureAPI.getInstance().getClient(domain);
    }

    private static void sql(Database db, String... statements) throws SQLException {
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            for (String q : statements) {
                s.execute(q);
            }
        }
    }
}
