package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.refresh.Key;
import dev.shapeshift.spec.Column;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyValuesTest {
    private static final List<Column> BIGINT = List.of(new Column("id", "bigint"));

    @Test
    void canonicalKeysPass() {
        assertThat(KeyValues.problem(BIGINT, Key.of("42"))).isEmpty();
        assertThat(KeyValues.problem(BIGINT, Key.of("-9223372036854775808"))).isEmpty();
        assertThat(KeyValues.problem(List.of(new Column("id", "integer")), Key.of("2147483647"))).isEmpty();
        assertThat(KeyValues.problem(List.of(new Column("id", "uuid")),
                Key.of("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))).isEmpty();
        assertThat(KeyValues.problem(List.of(new Column("t", "text"), new Column("n", "smallint")),
                Key.of("anything; DROP TABLE x", "7"))).isEmpty();
    }

    @Test
    void valuesTheCastWouldRefuseAreNamedWithoutTheValue() {
        assertThat(KeyValues.problem(BIGINT, Key.of("1); DROP TABLE src; --")))
                .hasValue("key value for column id is not a valid bigint");
        assertThat(KeyValues.problem(BIGINT, Key.of("9223372036854775808")))
                .hasValue("key value for column id is out of range for bigint");
        assertThat(KeyValues.problem(List.of(new Column("id", "smallint")), Key.of("40000")))
                .hasValue("key value for column id is out of range for smallint");
        assertThat(KeyValues.problem(List.of(new Column("u", "uuid")), Key.of("not-a-uuid")))
                .hasValue("key value for column u is not a valid uuid");
    }

    @Test
    void integerSpellingsPostgresAcceptsAreNotRefused() {
        assertThat(KeyValues.problem(BIGINT, Key.of(" +12 "))).isEmpty();
        assertThat(KeyValues.problem(BIGINT, Key.of("0x1F"))).isEmpty();
        assertThat(KeyValues.problem(BIGINT, Key.of("1_000"))).isEmpty();
    }
}
