package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.coordinator.contract.CodeSearch.Hit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The code search on a small fixture tree (src/test/resources/codesearch: a JPA entity, a Flyway
 * migration, a YAML export job): every place naming {@code legacy_email} — quoted, unquoted, upper
 * case, the ORM field {@code legacyEmail} — and none naming {@code legacy_email_sent} or
 * {@code legacyEmailSent}. The expected places are listed by hand.
 */
class CodeSearchTest {
    private static final Path FIXTURE = Path.of("src", "test", "resources", "codesearch");
    private final CodeSearch search = new CodeSearch(List.of("legacy_email"));

    @Test
    void findsEveryPlaceNamingTheOldColumnAndNoLookAlike() throws Exception {
        List<Hit> hits = search.scan(FIXTURE, "app");
        assertThat(hits).extracting(Hit::where).containsExactly(
                "app/config/nightly-export.yaml:4",
                "app/db/migration/V3__emails.sql:1",
                "app/src/main/java/app/Customer.java:8",
                "app/src/main/java/app/Customer.java:9",
                "app/src/main/java/app/Customer.java:14");
        assertThat(hits).extracting(Hit::identifier)
                .containsExactly("legacy_email", "legacy_email", "legacy_email", "legacyEmail", "LEGACY_EMAIL");
        assertThat(hits.get(2).text()).isEqualTo("@Column(name = \"legacy_email\")");
        assertThat(search.names()).containsExactly("legacy_email", "legacyEmail");
    }

    @Test
    void negativeControlTheLookAlikeIsFoundWhenItIsTheOldColumn() throws Exception {
        List<Hit> hits = new CodeSearch(List.of("legacy_email_sent")).scan(FIXTURE, "app");
        assertThat(hits).extracting(Hit::where).containsExactly(
                "app/config/nightly-export.yaml:5",
                "app/config/nightly-export.yaml:6",
                "app/db/migration/V3__emails.sql:2",
                "app/db/migration/V3__emails.sql:3",
                "app/src/main/java/app/Customer.java:11",
                "app/src/main/java/app/Customer.java:12",
                "app/src/main/java/app/Customer.java:15");
    }

    @Test
    void skipsBuildOutputHiddenDirectoriesAndBinaryFiles(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("target"));
        Files.createDirectories(dir.resolve(".git"));
        Files.createDirectories(dir.resolve("src"));
        Files.writeString(dir.resolve("target/Gen.java"), "String s = \"legacy_email\";");
        Files.writeString(dir.resolve(".git/COMMIT_EDITMSG"), "drop legacy_email");
        Files.write(dir.resolve("src/blob.bin"), new byte[] {'l', 0, 'e', 'g', 'a', 'c', 'y', '_', 'e', 'm', 'a', 'i', 'l'});
        Files.writeString(dir.resolve("src/Report.kt"), "val q = \"select legacy_email from users\"\r\nval r = 1\r\n");
        assertThat(search.scan(dir, dir.toString())).extracting(Hit::file, Hit::line)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("src/Report.kt", 1));
    }

    @Test
    void camelCaseFormOfSnakeCaseNames() {
        assertThat(CodeSearch.camel("legacy_email")).isEqualTo("legacyEmail");
        assertThat(CodeSearch.camel("legacy_verified_at")).isEqualTo("legacyVerifiedAt");
        assertThat(CodeSearch.camel("orders")).isEqualTo("orders");
        assertThat(CodeSearch.camel("_x")).isEqualTo("_x");
        assertThat(CodeSearch.camel("x_")).isEqualTo("x_");
    }
}
