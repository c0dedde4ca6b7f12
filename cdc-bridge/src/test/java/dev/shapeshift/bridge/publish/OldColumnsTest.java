package dev.shapeshift.bridge.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

/**
 * In place after the write switch, which row changes write the old shape
 * ({@link RecordReader#writesOldColumns}): the rules of docs/phases.md, "Old-shape writes after the
 * switch", on records shaped as Debezium's PostgreSQL connector makes them (an envelope with op,
 * before, after; {@code before} whole only with REPLICA IDENTITY FULL).
 */
class OldColumnsTest {
    private static final List<String> OLD = List.of("label", "kind");
    private static final Schema ENVELOPE = SchemaBuilder.struct().name("users.Envelope")
            .field("before", SchemaBuilder.struct().name("users.Value").optional()
                    .field("id", Schema.INT64_SCHEMA)
                    .field("label", Schema.OPTIONAL_STRING_SCHEMA)
                    .field("kind", SchemaBuilder.string().optional().defaultValue("plain").build())
                    .field("label_key", Schema.OPTIONAL_STRING_SCHEMA).build())
            .field("after", SchemaBuilder.struct().name("users.Value").optional()
                    .field("id", Schema.INT64_SCHEMA)
                    .field("label", Schema.OPTIONAL_STRING_SCHEMA)
                    .field("kind", SchemaBuilder.string().optional().defaultValue("plain").build())
                    .field("label_key", Schema.OPTIONAL_STRING_SCHEMA).build())
            .field("op", Schema.STRING_SCHEMA)
            .build();

    private static Struct row(Schema schema, String label, String kind, String key) {
        return new Struct(schema).put("id", 1L).put("label", label).put("kind", kind).put("label_key", key);
    }

    private static SourceRecord record(char op, Object[] before, Object[] after) {
        Struct v = new Struct(ENVELOPE).put("op", String.valueOf(op));
        if (before != null) {
            v.put("before", row(ENVELOPE.field("before").schema(), (String) before[0], (String) before[1], (String) before[2]));
        }
        if (after != null) {
            v.put("after", row(ENVELOPE.field("after").schema(), (String) after[0], (String) after[1], (String) after[2]));
        }
        return new SourceRecord(null, null, "t", 0, null, null, ENVELOPE, v);
    }

    private static Boolean writes(char op, Object[] before, Object[] after) {
        return RecordReader.writesOldColumns(record(op, before, after), OLD, Set.of("kind"));
    }

    private static Object[] r(String label, String kind, String key) {
        return new Object[] {label, kind, key};
    }

    @Test
    void anUpdateWritesTheOldShapeWhenAnOldColumnChanges() {
        assertThat(writes('u', r("Label 1", "plain", "label 1"), r("Old 1", "plain", "label 1"))).isTrue();
        assertThat(writes('u', r("Label 1", "plain", "label 1"), r("Label 1", "gold", "label 1"))).isTrue();
        assertThat(writes('u', r(null, "plain", "label 1"), r("x", "plain", "label 1"))).as("NULL to a value").isTrue();
    }

    @Test
    void anUpdateOfTheNewColumnsOnlyOrOfEqualValuesIsNot() {
        assertThat(writes('u', r("Label 1", "plain", "label 1"), r("Label 1", "plain", "label 2"))).isFalse();
        assertThat(writes('u', r("Label 1", "plain", "label 1"), r("Label 1", "plain", "label 1")))
                .as("SET label = label").isFalse();
        assertThat(writes('u', r("Label 1", "plain", "label 1"), r(RecordReader.UNAVAILABLE, "plain", "label 2")))
                .as("a TOAST value the UPDATE left unchanged").isFalse();
    }

    @Test
    void anUpdateWithoutABeforeImageCannotTell() {
        assertThat(writes('u', null, r("Old 1", "plain", "label 1"))).isNull();
    }

    @Test
    void anInsertWritesTheOldShapeWhenAnOldColumnHasAValueOtherThanItsDefault() {
        assertThat(writes('c', null, r("New 1", null, "new 1"))).as("a column without a default, set").isTrue();
        assertThat(writes('c', null, r(null, "gold", "new 1"))).as("a column with a default, set to another value").isTrue();
        assertThat(writes('c', null, r(null, "plain", "new 1"))).as("new code: NULL and the default").isFalse();
        assertThat(writes('c', null, r(null, null, "new 1"))).isFalse();
    }

    @Test
    void deletesAndOtherMigrationsNever() {
        assertThat(writes('d', r("Label 1", "plain", "label 1"), null)).isFalse();
        assertThat(RecordReader.writesOldColumns(record('u', r("a", "plain", "k"), r("b", "plain", "k")), List.of(),
                Set.of())).as("no old columns: not an in-place write switch").isFalse();
    }
}
