package dev.shapeshift.coordinator.flag;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FlagStore;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.flag.FlagClient;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The application-side client's staleness bound: a flip (on, and back off) is seen within the
 * refresh interval plus one query; with the catalog unreachable the last value is kept and
 * reported stale after {@code staleAfter}. Short intervals keep the test fast; the bound scales.
 */
@ExtendWith(PostgresExtension.class)
class FlagClientIT {
    private static final Duration REFRESH = Duration.ofMillis(250);
    private static final Duration STALE_AFTER = Duration.ofMillis(1000);
    /** Refresh interval + one query + scheduling slack on a busy 2-core machine. */
    private static final Duration BOUND = REFRESH.plusMillis(750);

    @Test
    void flipsAreSeenWithinTheBoundAndAnOutageKeepsTheLastValue(PostgresServer pg) throws Exception {
        Database admin = Seed.database(pg, "flagclient");
        String role = "flag_app_" + Long.toHexString(System.nanoTime());
        Seed.sql(admin, "CREATE ROLE " + role + " LOGIN PASSWORD 'app-secret'",
                "GRANT USAGE ON SCHEMA shapeshift TO " + role, "GRANT SELECT ON shapeshift.flag TO " + role);
        FlagStore flags = new FlagStore(new Catalog(admin, "test"));
        Database app = new Database(admin.jdbcUrl(), role, "app-secret");
        try (FlagClient client = new FlagClient(app, new FlagClient.Options(REFRESH, STALE_AFTER))) {
            FlagClient.FlagValue unknown = client.value("users.read-new");
            assertThat(unknown.value()).isFalse();
            assertThat(unknown.version()).isZero();
            assertThat(unknown.stale()).isFalse();

            flags.set("users.read-new", null, true, "test", "switch");
            assertThat(within(BOUND, () -> client.isOn("users.read-new"))).isLessThanOrEqualTo(BOUND);
            assertThat(client.value("users.read-new").version()).isEqualTo(1);

            flags.set("users.read-new", null, false, "test", "flip back");
            assertThat(within(BOUND, () -> !client.isOn("users.read-new"))).isLessThanOrEqualTo(BOUND);

            flags.set("users.read-new", null, true, "test", "switch again");
            within(BOUND, () -> client.isOn("users.read-new"));

            // Outage: the role may no longer log in and its session is gone.
            Seed.sql(admin, "ALTER ROLE " + role + " NOLOGIN",
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "'");
            flags.set("users.read-new", null, false, "test", "flip back during the outage");
            Thread.sleep(REFRESH.multipliedBy(2).toMillis());
            FlagClient.FlagValue kept = client.value("users.read-new");
            assertThat(kept.value()).as("last known value kept").isTrue();
            within(STALE_AFTER.plus(BOUND), () -> client.value("users.read-new").stale());
            assertThat(client.value("users.read-new").value()).isTrue();

            Seed.sql(admin, "ALTER ROLE " + role + " LOGIN");
            within(BOUND.plus(REFRESH), () -> !client.value("users.read-new").stale() && !client.isOn("users.read-new"));
            assertThat(client.value("users.read-new").version()).isEqualTo(4);
        } finally {
            Seed.sql(admin, "DROP OWNED BY " + role, "DROP ROLE " + role);
        }
    }

    /** Polls every 10ms; returns how long {@code condition} took to hold, failing after {@code limit} + 2s. */
    private static Duration within(Duration limit, BooleanSupplier condition) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + limit.plusSeconds(2).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition did not hold within " + limit.plusSeconds(2));
            }
            Thread.sleep(10);
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }
}
