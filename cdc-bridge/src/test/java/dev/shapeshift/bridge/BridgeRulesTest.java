package dev.shapeshift.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.bridge.capture.ColumnDiff;
import dev.shapeshift.bridge.capture.KeyText;
import dev.shapeshift.bridge.publish.EchoFilter;
import dev.shapeshift.bridge.slot.SlotAlarm;
import dev.shapeshift.bridge.slot.Lsn;
import dev.shapeshift.bridge.slot.SlotGuard;
import dev.shapeshift.bridge.slot.SlotState;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ShapeshiftException;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.junit.jupiter.api.Test;

class BridgeRulesTest {

    @Test
    void keyTextMatchesPostgresText() {
        assertThat(KeyText.of(42L, Schema.INT64_SCHEMA)).isEqualTo("42");
        assertThat(KeyText.of(-7, Schema.INT32_SCHEMA)).isEqualTo("-7");
        assertThat(KeyText.of((short) 3, Schema.INT16_SCHEMA)).isEqualTo("3");
        assertThat(KeyText.of("eu west", Schema.STRING_SCHEMA)).isEqualTo("eu west");
        Schema uuid = SchemaBuilder.string().name("io.debezium.data.Uuid").build();
        assertThat(KeyText.of("7b1e8a4e-2f3c-4d5e-8f90-a1b2c3d4e5f6", uuid)).isEqualTo("7b1e8a4e-2f3c-4d5e-8f90-a1b2c3d4e5f6");
        assertThat(KeyText.of(true, Schema.BOOLEAN_SCHEMA)).isEqualTo("true");
        assertThat(KeyText.of(new BigDecimal("1.50"), Decimal.schema(2))).isEqualTo("1.50");
        assertThat(KeyText.of(new byte[] {1, (byte) 0xab}, Schema.BYTES_SCHEMA)).isEqualTo("\\x01ab");
        Schema date = SchemaBuilder.int32().name("io.debezium.time.Date").build();
        assertThat(KeyText.of(19_000, date)).isEqualTo("2022-01-08");
        Schema ts = SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").build();
        assertThat(KeyText.of(1_641_600_000_120_000L, ts)).isEqualTo("2022-01-08 00:00:00.12");
        assertThat(KeyText.of(1_641_600_000_000_000L, ts)).isEqualTo("2022-01-08 00:00:00");
    }

    @Test
    void slotRules() {
        SlotState s = new SlotState("s", false, 200, 100, "reserved", null, 300);
        assertThat(SlotGuard.problem("s", Optional.empty(), Optional.empty())).isEmpty();
        assertThat(SlotGuard.problem("s", Optional.of(250L), Optional.of(s))).isEmpty();
        assertThat(SlotGuard.problem("s", Optional.of(200L), Optional.of(s))).isEmpty();
        assertThat(SlotGuard.problem("s", Optional.of(150L), Optional.of(s))).get().asString().contains("ahead");
        assertThat(SlotGuard.problem("s", Optional.of(150L), Optional.empty())).get().asString().contains("missing");
        assertThat(Lsn.format(Lsn.parse("16/B374D848"))).isEqualTo("16/B374D848");
    }

    @Test
    void walAlarm() {
        assertThat(SlotAlarm.alarm(new SlotState("s", true, 1, 1, "reserved", null, 5), 100, 0)).isEmpty();
        assertThat(SlotAlarm.alarm(new SlotState("s", true, 1, 1, "extended", 50L, 5), 100, 0)).isPresent();
        assertThat(SlotAlarm.alarm(new SlotState("s", true, 1, 1, "reserved", 500L, 5), 100, 0)).isEmpty();
        assertThat(SlotAlarm.alarm(new SlotState("s", true, 1, 1, "unreserved", null, 5), 100, 0)).isPresent();
        assertThat(SlotAlarm.alarm(new SlotState("s", true, 1, 1, "lost", null, 5), 100, 0)).isPresent();
        // The retained-WAL budget: current position minus restart_lsn, with or without a server limit.
        assertThat(SlotAlarm.alarm(new SlotState("s", true, 900, 100, "reserved", null, 1000), 100, 900)).isEmpty();
        assertThat(SlotAlarm.alarm(new SlotState("s", true, 900, 100, "reserved", null, 1000), 100, 899)).get()
                .asString().contains("retains 900 bytes").contains("budget 899");
        assertThat(SlotAlarm.alarm(new SlotState("s", true, 900, 100, "reserved", null, 1000), 100, 0)).isEmpty();
    }

    @Test
    void onlyUsedColumnsMatter() {
        Map<String, String> before = Map.of("id", "bigint", "a", "text", "b", "text");
        List<String> key = List.of("id");
        List<String> transforms = List.of("upper(a)");
        assertThat(ColumnDiff.changes(before, Map.of("id", "bigint", "a", "text"), key, transforms)).isEmpty();
        assertThat(ColumnDiff.changes(before, Map.of("id", "bigint", "a", "integer"), key, transforms))
                .contains("column a changed type from text to integer");
        assertThat(ColumnDiff.changes(before, Map.of("id", "bigint", "b", "text"), key, transforms))
                .contains("column a was dropped or renamed");
        assertThat(ColumnDiff.changes(before, Map.of("id", "integer", "a", "text"), key, transforms)).isPresent();
        assertThat(ColumnDiff.used("a", key, List.of("coalesce(ab, 'x')"))).isFalse();
    }

    @Test
    void echoFilterMatchesOnlyMarkedTransactions() {
        EchoFilter f = new EchoFilter(2);
        f.markEcho(1);
        assertThat(f.isEcho(1L)).isTrue();
        assertThat(f.isEcho(2L)).isFalse();
        assertThat(f.isEcho(null)).isFalse();
        f.markEcho(2);
        f.markEcho(3);
        assertThat(f.isEcho(1L)).isFalse(); // forgotten: harmless, it would only publish
    }

    @Test
    void anEchoMarkNamingAMigrationSuppressesTheChangesForThatMigrationOnly() {
        EchoFilter f = new EchoFilter(10);
        f.markEcho(7, "menu-translate-key");
        assertThat(f.isEcho(7L, "menu-translate-key")).isTrue();
        assertThat(f.isEcho(7L, "menu-translations")).as("another migration on the table needs the change").isFalse();
        f.markEcho(8);
        assertThat(f.isEcho(8L, "menu-translations")).as("a mark without content: every migration").isTrue();
        assertThat(f.isEcho(9L, "menu-translate-key")).isFalse();
    }

    @Test
    void configFailsFast() {
        Database db = new Database("jdbc:postgresql://h:5432/Orders-DB?ssl=true", "u", "p");
        assertThat(BridgeConfig.of(db, "k:9092").slot()).isEqualTo("shapeshift_orders_db");
        assertThatThrownBy(() -> BridgeConfig.of(db, "k:9092").withSlot("Bad-Slot"))
                .isInstanceOf(ShapeshiftException.class).hasMessageContaining("slot");
        assertThatThrownBy(() -> BridgeConfig.of(db, " ")).hasMessageContaining("bootstrapServers");
    }
}
