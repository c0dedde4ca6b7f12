package dev.shapeshift.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SourceSafetyIT {

    @Test
    void refusesToStartWhenTheSlotWasRecreatedBehindItsBack(PostgresServer pg, KafkaBroker kafka) throws Exception {
        BridgeFixture f = BridgeFixture.withItems(pg, kafka, "slotgone", "slot_m", "a");
        try (CdcBridge bridge = f.streaming()) {
            f.sql("INSERT INTO items VALUES (1, 'a')");
            await().atMost(Duration.ofSeconds(30)).until(() -> bridge.metrics().published() >= 1);
            Thread.sleep(1500); // let an offset flush happen
        }
        f.sql("SELECT pg_drop_replication_slot('" + f.slot + "')",
                "INSERT INTO items VALUES (2, 'lost')",
                "SELECT pg_create_logical_replication_slot('" + f.slot + "', 'pgoutput')");
        try (CdcBridge bridge = new CdcBridge(f.config(), new SimpleMeterRegistry())) {
            bridge.start();
            assertThat(bridge.awaitState(BridgeState.FAILED, Duration.ofSeconds(60))).isTrue();
            Throwable why = bridge.failure().orElseThrow();
            assertThat(why).isInstanceOf(ShapeshiftException.class);
            assertThat(((ShapeshiftException) why).code()).isEqualTo(ErrorCode.SOURCE_CHANGED);
            assertThat(why.getMessage()).contains("ahead of the stored offset").contains("re-backfill");
            assertThat(f.catalog.get("slot_m").message()).contains("re-backfill");
        }
        // and the bridge did not drop the slot itself
        f.sql("SELECT 1 / count(*) FROM pg_replication_slots WHERE slot_name = '" + f.slot + "'");
    }

    @Test
    void ddlOnAUsedColumnStopsTheMigration(PostgresServer pg, KafkaBroker kafka) throws Exception {
        BridgeFixture f = new BridgeFixture(pg, kafka, "ddl");
        f.tableMigration("ddl_m", "items", "a text, unused text", "upper(a)");
        try (CdcBridge bridge = f.streaming()) {
            f.sql("INSERT INTO items VALUES (1, 'a', 'u')");
            await().atMost(Duration.ofSeconds(30)).until(() -> bridge.metrics().published() >= 1);
            // negative control: a column the transform does not use may change
            f.sql("ALTER TABLE items DROP COLUMN unused", "INSERT INTO items VALUES (2, 'b')");
            await().atMost(Duration.ofSeconds(30)).until(() -> bridge.metrics().published() >= 2);
            assertThat(f.catalog.get("ddl_m").message()).doesNotContain("SOURCE_CHANGED");
            // a used column changes type mid-stream
            f.sql("ALTER TABLE items ALTER COLUMN a TYPE integer USING length(a)", "INSERT INTO items VALUES (3, 5)");
            await().atMost(Duration.ofSeconds(30)).until(() -> String.valueOf(f.catalog.get("ddl_m").message())
                    .contains("SOURCE_CHANGED"));
            String message = f.catalog.get("ddl_m").message();
            System.out.println("DDL message: " + message);
            assertThat(message).contains("column a changed type from text to integer").contains("re-backfill");
            assertThat(bridge.metrics().published()).isEqualTo(2.0); // the change after the DDL was not published
            assertThat(bridge.state()).isIn(BridgeState.STREAMING, BridgeState.STARTING);
        }
    }
}
