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
    void valuesTheCastWouldRefuseAreNamedWithTheirSqlStateAndAQuotedValue() {
        assertThat(KeyValues.problem(BIGINT, Key.of("1); DROP TABLE src; --")))
                .hasValue("key value for column id is not a valid bigint (SQLState 22P02): '1); DROP TABLE src; --'");
        assertThat(KeyValues.problem(BIGINT, Key.of("9223372036854775808")))
                .hasValue("key value for column id is out of range for bigint (SQLState 22003): '9223372036854775808'");
        assertThat(KeyValues.problem(List.of(new Column("id", "smallint")), Key.of("40000")))
                .hasValue("key value for column id is out of range for smallint (SQLState 22003): '40000'");
        assertThat(KeyValues.problem(List.of(new Column("u", "uuid")), Key.of("not-a-uuid")))
                .hasValue("key value for column u is not a valid uuid (SQLState 22P02): 'not-a-uuid'");
    }

    @Test
    void theRefusalPostgresReportsReadsLikeTheOneFoundAtDecode() {
        // what SliceRefresher reports when PostgreSQL's cast refuses the same values
        assertThat(KeyValues.describe(BIGINT.get(0), "1); DROP TABLE src; --", "22P02"))
                .isEqualTo(KeyValues.problem(BIGINT, Key.of("1); DROP TABLE src; --")).orElseThrow());
        assertThat(KeyValues.describe(BIGINT.get(0), "9223372036854775808", "22003"))
                .isEqualTo(KeyValues.problem(BIGINT, Key.of("9223372036854775808")).orElseThrow());
        assertThat(KeyValues.describe(new Column("d", "date"), "2024-02-30", "22008"))
                .isEqualTo("key value for column d is out of range for date (SQLState 22008): '2024-02-30'");
        assertThat(KeyValues.describe(new Column("t", "text"), "a\u0000b", "22021"))
                .isEqualTo("key value for column t is refused by PostgreSQL's cast to text (SQLState 22021): 'a\\u0000b'");
    }

    @Test
    void shownValuesAreEscapedAndBounded() {
        assertThat(KeyValues.quote("it's")).isEqualTo("'it''s'");
        assertThat(KeyValues.quote("a\nb\u0000\u2028")).isEqualTo("'a\\u000Ab\\u0000\\u2028'");
        String shown = KeyValues.quote("x".repeat(10_000));
        assertThat(shown).isEqualTo("'" + "x".repeat(KeyValues.SHOWN) + "'… (10000 characters)");
    }

    @Test
    void integerSpellingsPostgresAcceptsAreNotRefused() {
        assertThat(KeyValues.problem(BIGINT, Key.of(" +12 "))).isEmpty();
        assertThat(KeyValues.problem(BIGINT, Key.of("0x1F"))).isEmpty();
        assertThat(KeyValues.problem(BIGINT, Key.of("1_000"))).isEmpty();
    }
}
