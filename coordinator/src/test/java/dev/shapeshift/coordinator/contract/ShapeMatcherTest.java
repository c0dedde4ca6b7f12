package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ShapeMatcherTest {
    private final ShapeMatcher inPlace = new ShapeMatcher("users", List.of("legacy_verified_at"), true);

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT legacy_verified_at FROM users WHERE id = $1",
            "select \"legacy_verified_at\" from public.users u",
            "SELECT u.LEGACY_VERIFIED_AT FROM \"public\".\"users\" u",
            "UPDATE users SET legacy_verified_at = now() WHERE id = $1",
            "SELECT u.* FROM users u",
            "INSERT INTO public.users VALUES ($1, $2, $3)"})
    void matchesOldColumnsQuotedUnquotedQualified(String sql) {
        assertThat(inPlace.match(sql)).isPresent();
    }

    /** A plain EXPLAIN reads no rows (the reconciler explains its reads to learn their query ids); ANALYZE runs them. */
    @ParameterizedTest
    @ValueSource(strings = {
            "EXPLAIN ANALYZE SELECT legacy_verified_at FROM users",
            "EXPLAIN (ANALYZE, VERBOSE) SELECT legacy_verified_at FROM users",
            "explain (verbose, analyse true) update users set legacy_verified_at = now()",
            "/* job */ EXPLAIN SELECT legacy_verified_at FROM users"})
    void anExplainThatRunsTheStatementMatches(String sql) {
        assertThat(inPlace.match(sql)).isPresent();
    }

    @Test
    void aStarSelectMatchesNamingTheStar() {
        assertThat(inPlace.match("SELECT * FROM users WHERE id = $1")).hasValueSatisfying(w -> assertThat(w).contains("*"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT legacy_verified_at_v2 FROM users",
            "SELECT email FROM users WHERE id = $1",
            "SELECT count(*) FROM users",
            "INSERT INTO users (id, email) VALUES ($1, $2)",
            "SELECT legacy_verified_at FROM users_archive",
            "SELECT \"Legacy_verified_at\" FROM users",
            "EXPLAIN (VERBOSE, FORMAT JSON) SELECT legacy_verified_at FROM users WHERE id = $1",
            "explain select * from users"})
    void ignoresOtherNamesAndOtherTables(String sql) {
        assertThat(inPlace.match(sql)).isEmpty();
    }

    @Test
    void tableModeNeedsTheTableOnly() {
        ShapeMatcher table = new ShapeMatcher("Orders", List.of(), false);
        assertThat(table.match("SELECT count(*) FROM \"Orders\"")).isPresent();
        assertThat(table.match("SELECT count(*) FROM orders")).isEmpty();
    }

    @Test
    void aTableThatStaysIsWatchedForWritesOnly() {
        ShapeMatcher writes = ShapeMatcher.writesTo("orders");
        assertThat(writes.match("INSERT INTO orders (id) VALUES ($1)")).isPresent();
        assertThat(writes.match("update public.orders set total = $1 where id = $2")).isPresent();
        assertThat(writes.match("DELETE FROM ONLY \"public\".\"orders\" WHERE id = $1")).isPresent();
        assertThat(writes.match("TRUNCATE orders")).isPresent();
        assertThat(writes.match("SELECT total FROM orders WHERE id = $1")).as("reads are harmless").isEmpty();
        assertThat(writes.match("UPDATE orders_v2 SET total = $1")).as("another table").isEmpty();
        assertThat(writes.match("INSERT INTO audit SELECT * FROM orders")).as("reads it, writes another").isEmpty();
    }

    @Test
    void inPlaceWithoutOldColumnsMatchesNothing() {
        ShapeMatcher none = new ShapeMatcher("users", List.of(), true);
        assertThat(none.match("SELECT * FROM users")).isEmpty();
        assertThat(none.match("UPDATE users SET email = $1")).isEmpty();
    }
}
