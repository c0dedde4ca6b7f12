package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.coordinator.gate.GateClosedException;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.phase.Phase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A spec that drops nothing: the evidence says so instead of "untouched by others" while the
 * application writes the table all the time. In place without {@code dropColumns} nothing is
 * watched and the gate opens at once; table mode without {@code dropTable} keeps the old table
 * but the contract ends the sync, so writes to it (and only writes) keep the gate closed.
 */
@ExtendWith(PostgresExtension.class)
class DropsNothingIT {
    @Test
    void inPlaceWithoutDropColumnsSaysSoAndOpensWhileTheApplicationWrites(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "drops_nothing");
        String app = appRole(db, "accounts");
        String m = "accounts-nothing";
        ContractGateIT.Contracting ready = ContractGateIT.contracting(db, m, "{\"name\":\"" + m + "\",\"source\":"
                + "{\"table\":\"accounts\"},\"mode\":\"in-place\",\"target\":"
                + "{\"columns\":[{\"name\":\"abalance2\",\"type\":\"bigint\",\"transform\":\"abalance * 2\"}]},"
                + "\"contract\":{\"quietPeriod\":\"1h\"}}", "reads-switched");
        try (Connection c = Seed.connectAs(db, app, "app", "app"); Statement s = c.createStatement()) {
            for (int i = 0; i < 200; i++) {
                s.executeUpdate("UPDATE accounts SET abalance = abalance + 1 WHERE id = " + (1 + i % 50));
            }
            AccessReport r = ready.watch().evaluate(m);
            assertThat(r.nothingWatched()).isTrue();
            assertThat(r.quiet()).isTrue();
            assertThat(AccessGate.checks(r)).singleElement().satisfies(ch -> {
                assertThat(ch.passed()).isTrue();
                assertThat(ch.evidence()).contains("drops nothing").contains("contract.dropColumns is empty")
                        .doesNotContain("untouched");
            });
            assertThat(ready.transitions().advance(m, Phase.CONTRACT_READY, "test", "nothing to drop").phase())
                    .isEqualTo(Phase.CONTRACT_READY);
        }
    }

    @Test
    void tableModeWithoutDropTableWatchesWritesOnly(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "drops_nothing_table");
        String app = appRole(db, "accounts");
        Seed.sql(db, "CREATE TABLE accounts_v2 (id bigint PRIMARY KEY, abalance bigint)");
        String m = "accounts-v2";
        ContractGateIT.Contracting ready = ContractGateIT.contracting(db, m, "{\"name\":\"" + m + "\",\"source\":"
                + "{\"table\":\"accounts\"},\"mode\":\"table\",\"target\":"
                + "{\"table\":\"accounts_v2\",\"columns\":[{\"name\":\"abalance\",\"type\":\"bigint\",\"transform\":"
                + "\"abalance\"}]},\"contract\":{\"quietPeriod\":\"2s\"}}", "reads-switched");
        AccessWatch watch = ready.watch();
        Transitions transitions = ready.transitions();
        watch.baseline(m);
        try (Connection c = Seed.connectAs(db, app, "app", "app"); Statement s = c.createStatement()) {
            // Negative control: reads of a table that stays are harmless and never close the gate.
            for (int i = 0; i < 50; i++) {
                s.executeQuery("SELECT abalance FROM accounts WHERE id = " + (1 + i)).close();
            }
            AccessReport reads = watch.evaluate(m);
            assertThat(reads.offenders()).isEmpty();
            assertThat(AccessGate.checks(reads)).filteredOn(ch -> ch.name().equals("old-shape-quiet")).singleElement()
                    .satisfies(ch -> assertThat(ch.evidence()).contains("contract.dropTable is false").contains("writes"));

            for (int i = 0; i < 50; i++) {
                s.executeUpdate("UPDATE accounts SET abalance = abalance + 1 WHERE id = " + (1 + i));
            }
            AccessReport writes = watch.evaluate(m);
            assertThat(writes.offenders()).singleElement().satisfies(st -> {
                assertThat(st.role()).isEqualTo(app);
                assertThat(st.why()).isEqualTo("writes the old table");
            });
            // old-table-writes may join it once the server flushes its table counters (up to a second later).
            assertThat(AccessGate.checks(writes)).filteredOn(ch -> !ch.passed()).extracting(Check::name)
                    .contains("old-shape-quiet");
            GateClosedException closed = (GateClosedException) org.assertj.core.api.Assertions.catchThrowable(() ->
                    transitions.advance(m, Phase.CONTRACT_READY, "test", "try"));
            assertThat(closed.getMessage()).contains("wrote public.accounts").contains(app);
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(400)).untilAsserted(() -> {
            try {
                assertThat(transitions.advance(m, Phase.CONTRACT_READY, "test", "no writes").phase())
                        .isEqualTo(Phase.CONTRACT_READY);
            } catch (GateClosedException e) {
                throw new AssertionError(e.getMessage());
            }
        });
    }

    /** The table {@code name} (50 rows) and an application role of its own that may read and write it. */
    private static String appRole(Database db, String name) throws SQLException {
        String role = "app_" + Long.toHexString(System.nanoTime());
        Seed.sql(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "CREATE TABLE " + name + " (id bigint PRIMARY KEY, abalance bigint NOT NULL)",
                "INSERT INTO " + name + " SELECT i, 0 FROM generate_series(1, 50) i",
                "CREATE ROLE " + role + " LOGIN PASSWORD 'app'",
                "GRANT SELECT, UPDATE ON " + name + " TO " + role);
        return role;
    }
}
