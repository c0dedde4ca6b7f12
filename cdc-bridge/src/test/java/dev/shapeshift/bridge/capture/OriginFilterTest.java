package dev.shapeshift.bridge.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** When the bridge may stream with origin = 'none': only when no change it must publish can carry an origin. */
class OriginFilterTest {
    private static final TableId USERS = new TableId("app", "users");
    private static final TableId ORDERS = new TableId("app", "orders");

    private static SyncTarget target(String migration, TableId table) {
        return new SyncTarget(migration, table, List.of("id"), List.of("x"), "slot", "0/1");
    }

    @Test
    void onWithOneMigrationPerTableOnSixteenAndNoOtherOrigin() {
        var d = OriginFilter.decide(true, 170002, List.of(),
                Map.of(USERS, List.of(target("a", USERS)), ORDERS, List.of(target("b", ORDERS))));
        assertThat(d.on()).as(d.reason()).isTrue();
        // the same migration twice on one table (a write switch's target captured beside its source) is one
        assertThat(OriginFilter.decide(true, 160000, List.of(), Map.of(USERS, List.of(target("a", USERS),
                target("a", USERS)))).on()).isTrue();
    }

    @Test
    void offOnFifteenAndOlder() {
        var d = OriginFilter.decide(true, 150018, List.of(), Map.of(USERS, List.of(target("a", USERS))));
        assertThat(d.on()).isFalse();
        assertThat(d.reason()).contains("PostgreSQL 15");
    }

    @Test
    void offWhenAnotherReplicationOriginExists() {
        var d = OriginFilter.decide(true, 170002, List.of("pg_16402"), Map.of(USERS, List.of(target("a", USERS))));
        assertThat(d.on()).isFalse();
        assertThat(d.reason()).contains("pg_16402");
    }

    @Test
    void offWhenTwoMigrationsCaptureOneTable() {
        var d = OriginFilter.decide(true, 170002, List.of(),
                Map.of(USERS, List.of(target("a", USERS), target("b", USERS))));
        assertThat(d.on()).isFalse();
        assertThat(d.reason()).contains("2 migrations");
    }

    @Test
    void offWhenConfiguredOff() {
        assertThat(OriginFilter.decide(false, 170002, List.of(), Map.of()).on()).isFalse();
    }

    @Test
    void theEngineAsksPgoutputForOriginNoneOnlyWhenOn() {
        var config = dev.shapeshift.bridge.BridgeConfig.of(new dev.shapeshift.db.Database(
                "jdbc:postgresql://localhost:5432/app", "u", "p"), "localhost:9092");
        assertThat(CaptureEngine.properties(config, List.of(USERS), true).getProperty("slot.stream.params"))
                .isEqualTo("origin=none");
        assertThat(CaptureEngine.properties(config, List.of(USERS), false).getProperty("slot.stream.params")).isNull();
    }
}
