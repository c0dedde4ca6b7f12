package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ShapeMatcherTest {
    private final ShapeMatcher inPlace = new ShapeMatcher("users", List.of("legacy_verified_at"), true);

    @Test
    void matchesOldColumnsQuotedUnquotedQualified() {
        assertThat(inPlace.match("SELECT legacy_verified_at FROM users WHERE id = $1")).isPresent();
        assertThat(inPlace.match("select \"legacy_verified_at\" from public.users u")).isPresent();
        assertThat(inPlace.match("SELECT u.LEGACY_VERIFIED_AT FROM \"public\".\"users\" u")).isPresent();
        assertThat(inPlace.match("UPDATE users SET legacy_verified_at = now() WHERE id = $1")).isPresent();
        assertThat(inPlace.match("SELECT * FROM users WHERE id = $1")).hasValueSatisfying(w -> assertThat(w).contains("*"));
        assertThat(inPlace.match("SELECT u.* FROM users u")).isPresent();
        assertThat(inPlace.match("INSERT INTO public.users VALUES ($1, $2, $3)")).isPresent();
    }

    @Test
    void ignoresOtherNamesAndOtherTables() {
        assertThat(inPlace.match("SELECT legacy_verified_at_v2 FROM users")).isEmpty();
        assertThat(inPlace.match("SELECT email FROM users WHERE id = $1")).isEmpty();
        assertThat(inPlace.match("SELECT count(*) FROM users")).isEmpty();
        assertThat(inPlace.match("INSERT INTO users (id, email) VALUES ($1, $2)")).isEmpty();
        assertThat(inPlace.match("SELECT legacy_verified_at FROM users_archive")).isEmpty();
        assertThat(inPlace.match("SELECT \"Legacy_verified_at\" FROM users")).isEmpty();
    }

    @Test
    void tableModeNeedsTheTableOnly() {
        ShapeMatcher table = new ShapeMatcher("Orders", List.of(), false);
        assertThat(table.match("SELECT count(*) FROM \"Orders\"")).isPresent();
        assertThat(table.match("SELECT count(*) FROM orders")).isEmpty();
    }
}
