package dev.shapeshift.coordinator.register;

import static dev.shapeshift.coordinator.Seed.ADMIN;
import static dev.shapeshift.coordinator.Seed.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's --specs-dir: a valid spec beside an invalid and an unreadable one is registered;
 * the bad ones are reported (file, field, fix) in GET /api/specs; a changed file of a registered
 * migration is refused and changes nothing; a fixed file is picked up by a later scan.
 */
@ExtendWith(PostgresExtension.class)
class SpecsDirIT {
    @Test
    void validSpecsAreRegisteredAndBadOnesReportedWhileTheOthersGoOn(PostgresServer pg, @TempDir Path dir) throws Exception {
        Database db = Seed.database(pg, "specsdir");
        Seed.sql(db, "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_verified_at timestamptz)");
        Files.writeString(dir.resolve("a-bad.yaml"), other("legacy_verifed_at"));
        Files.writeString(dir.resolve("b-good.yml"), RegistrarIT.SPEC);
        Files.writeString(dir.resolve("c-broken.yaml"), "name: x\nsource: [\n");
        Files.writeString(dir.resolve("notes.txt"), "not a spec");

        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (Coordinator coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, ADMIN, READ,
                Duration.ofSeconds(1)).withSpecsDir(dir), registry)) {
            int port = coordinator.port();
            // The first scan is over when the API shows all three files (the row appears mid-scan).
            await().atMost(Duration.ofSeconds(60)).until(() -> Seed.call(port, "GET", "/api/specs", READ, null)
                    .json().get("files").size() == 3);
            assertThat(names(db)).containsExactly("users-email-verified planned");

            JsonNode specs = Seed.call(port, "GET", "/api/specs", READ, null).json();
            assertThat(specs.get("dir").asText()).isEqualTo(dir.toString());
            assertThat(files(specs.get("files"))).containsExactly("a-bad.yaml", "b-good.yml", "c-broken.yaml");
            JsonNode problems = specs.get("specProblems");
            assertThat(files(problems)).containsExactly("a-bad.yaml", "c-broken.yaml");
            assertThat(problems.get(0).get("outcome").asText()).isEqualTo("INVALID");
            assertThat(problems.get(0).at("/problems/0/path").asText()).isEqualTo("target.columns[0].transform");
            assertThat(problems.get(0).get("message").asText()).startsWith("a-bad.yaml: target.columns[0].transform: ")
                    .contains("did you mean legacy_verified_at").contains(" — ");
            assertThat(problems.get(1).get("message").asText()).startsWith("c-broken.yaml:2:10: not valid YAML")
                    .contains("fix the YAML syntax");
            assertThat(registry.scrape()).contains("shapeshift_specs_refused 2.0");

            // A changed file of a registered migration: refused, reported, nothing changed.
            Files.writeString(dir.resolve("b-good.yml"), RegistrarIT.SPEC.replace("IS NOT NULL", "IS NULL"));
            await().atMost(Duration.ofSeconds(60)).until(() -> files(Seed.call(port, "GET", "/api/specs", READ, null)
                    .json().get("specProblems")).contains("b-good.yml"));
            JsonNode conflict = problem(port, "b-good.yml");
            assertThat(conflict.get("outcome").asText()).isEqualTo("CONFLICT");
            assertThat(conflict.get("message").asText()).contains("target.columns[0].transform").contains("nothing changed");
            assertThat(transform(db)).isEqualTo("legacy_verified_at IS NOT NULL");

            // The bad file fixed: registered by a later scan.
            Files.writeString(dir.resolve("a-bad.yaml"), other("legacy_verified_at"));
            await().atMost(Duration.ofSeconds(60)).until(() -> names(db).contains("users-verified-at planned"));
        }
    }

    private static String other(String column) {
        return UsersSpec.withColumn("users-verified-at", "verified_at", "timestamptz", column);
    }

    private static JsonNode problem(int port, String file) {
        for (JsonNode p : Seed.call(port, "GET", "/api/specs", READ, null).json().get("specProblems")) {
            if (p.get("origin").asText().equals(file)) {
                return p;
            }
        }
        throw new AssertionError("no spec problem for " + file);
    }

    private static List<String> files(JsonNode registrations) {
        List<String> out = new ArrayList<>();
        registrations.forEach(r -> out.add(r.get("origin").asText()));
        return out;
    }

    private static List<String> names(Database db) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT name || ' ' || phase FROM shapeshift.migration ORDER BY name")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static String transform(Database db) throws Exception {
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT spec #>> '{target,columns,0,transform}' FROM shapeshift.migration "
                     + "WHERE name = 'users-email-verified'")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
