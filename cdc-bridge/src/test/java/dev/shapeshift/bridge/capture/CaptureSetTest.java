package dev.shapeshift.bridge.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.phase.Phase;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which extra table a migration has captured: the target table of a table-mode write switch, and nothing else. */
class CaptureSetTest {
    private static final SyncTarget SOURCE = new SyncTarget("m", new TableId("app", "users"), List.of("id"),
            List.of("lower(label)"), "slot", "0/1");

    private static MigrationRecord record(String specJson) {
        return new MigrationRecord("m", specJson, "", Phase.SYNCING, null, 1, "slot", "0/1", null, null, null);
    }

    @Test
    void tableModeWithAWriteSwitchCapturesTheTargetTableByTheSameKey() throws Exception {
        SyncTarget t = CaptureSet.newShape(record("{\"mode\":\"table\",\"target\":{\"table\":\"users_v2\"},"
                + "\"writes\":{\"switch\":true}}"), SOURCE).orElseThrow();
        assertThat(t.table()).isEqualTo(new TableId("app", "users_v2"));
        assertThat(t.newShape()).isTrue();
        assertThat(t.migration()).isEqualTo("m");
        assertThat(t.keyColumns()).containsExactly("id");
        assertThat(t.coveredBy("slot")).isTrue();
        assertThat(CaptureSet.byTable(List.of(SOURCE, t))).containsOnlyKeys(SOURCE.table(), t.table());
    }

    @Test
    void noExtraTableWithoutAWriteSwitchOrInPlace() throws Exception {
        assertThat(CaptureSet.newShape(record("{\"mode\":\"table\",\"target\":{\"table\":\"users_v2\"}}"), SOURCE)).isEmpty();
        assertThat(CaptureSet.newShape(record("{\"mode\":\"in-place\",\"writes\":{\"switch\":true}}"), SOURCE)).isEmpty();
        assertThat(CaptureSet.newShape(record("{\"writes\":{\"switch\":true}}"), SOURCE)).isEmpty();
    }

    @Test
    void inPlaceWithAWriteSwitchWatchesTheOldColumnsNewCodeStopsWriting() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertThat(CaptureSet.oldColumnsInPlace(json.readTree("{\"mode\":\"in-place\",\"writes\":{\"switch\":true,"
                + "\"reverse\":{\"label\":\"label_key\",\"id\":\"x\"}},\"contract\":{\"dropColumns\":[\"legacy\",\"label\"]}}"),
                List.of("id"))).as("reverse and dropped columns, never the key").containsExactly("label", "legacy");
        assertThat(CaptureSet.oldColumnsInPlace(json.readTree("{\"writes\":{\"switch\":true,\"reverse\":{\"a\":\"b\"}}}"),
                List.of("id"))).as("in place is the default mode").containsExactly("a");
        assertThat(CaptureSet.oldColumnsInPlace(json.readTree("{\"mode\":\"table\",\"writes\":{\"switch\":true,"
                + "\"reverse\":{\"a\":\"b\"}}}"), List.of("id"))).as("table mode marks the old table instead").isEmpty();
        assertThat(CaptureSet.oldColumnsInPlace(json.readTree("{\"contract\":{\"dropColumns\":[\"a\"]}}"), List.of("id")))
                .as("no write switch").isEmpty();
    }
}
