package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.error.ShapeshiftException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The code search as a gate input: the spec's contract.codeSearch plus extra directories, hits that
 * keep the gate closed, acknowledgements (stored, audited) that open it, and a missing directory
 * that keeps it closed.
 */
@ExtendWith(PostgresExtension.class)
class CodeSearchIT {
    private static final String FIXTURE = Path.of("src", "test", "resources", "codesearch").toAbsolutePath().toString();

    @Test
    void hitsCloseTheGateUntilAcknowledged(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "code_search");
        Seed.sql(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_email text, legacy_email_sent boolean)");
        String m = "users-code";
        Catalog catalog = new Catalog(db, "test");
        catalog.create(m, "{\"name\":\"" + m + "\",\"source\":{\"table\":\"users\"},\"mode\":\"in-place\","
                + "\"target\":{\"columns\":[{\"name\":\"email2\",\"type\":\"text\",\"transform\":\"legacy_email\"}]},"
                + "\"contract\":{\"dropColumns\":[\"legacy_email\"],\"quietPeriod\":\"1h\",\"codeSearch\":[\""
                + FIXTURE.replace("\\", "\\\\") + "\"]}}", "test", "test");
        AccessWatch watch = new AccessWatch(db);

        AccessReport r = watch.evaluate(m);
        assertThat(r.code().open()).extracting(CodeSearch.Hit::file, CodeSearch.Hit::line).containsExactly(
                org.assertj.core.groups.Tuple.tuple("config/nightly-export.yaml", 4),
                org.assertj.core.groups.Tuple.tuple("db/migration/V3__emails.sql", 1),
                org.assertj.core.groups.Tuple.tuple("src/main/java/app/Customer.java", 8),
                org.assertj.core.groups.Tuple.tuple("src/main/java/app/Customer.java", 9),
                org.assertj.core.groups.Tuple.tuple("src/main/java/app/Customer.java", 14));
        Check closed = codeCheck(r);
        assertThat(closed.passed()).isFalse();
        assertThat(closed.evidence()).contains("5 place(s)").contains("config/nightly-export.yaml:4")
                .contains("shapeshift evidence ack " + m);

        CodeEvidence.acknowledge(db, m, "src/main/java/app/Customer.java", "alice", "the entity is mapped by the migration's new column too");
        CodeEvidence.acknowledge(db, m, "./db/migration/V3__emails.sql:1", "alice", "the migration that added it");
        AccessReport one = watch.evaluate(m);
        assertThat(one.code().open()).extracting(CodeSearch.Hit::file).containsExactly("config/nightly-export.yaml");
        assertThat(one.code().acknowledged()).hasSize(4).allSatisfy(a -> assertThat(a.by()).isEqualTo("alice"));
        assertThat(codeCheck(one).passed()).isFalse();

        CodeEvidence.acknowledge(db, m, "config/nightly-export.yaml:4", "bob", "the export job was retired in March");
        AccessReport none = watch.evaluate(m);
        assertThat(none.code().open()).isEmpty();
        assertThat(codeCheck(none).passed()).isTrue();
        assertThat(codeCheck(none).evidence()).contains("5 acknowledged");
        assertThat(catalog.auditLog(m, 0, 100)).extracting(e -> e.action()).contains(
                "code-ack: src/main/java/app/Customer.java (every hit)", "code-ack: db/migration/V3__emails.sql:1",
                "code-ack: config/nightly-export.yaml:4");

        // An extra directory that does not exist keeps the gate closed and is named.
        AccessReport missing = watch.evaluate(m, List.of("no/such/dir"));
        assertThat(codeCheck(missing).passed()).isFalse();
        assertThat(codeCheck(missing).evidence()).contains("no/such/dir is not a directory");

        assertThatThrownBy(() -> CodeEvidence.acknowledge(db, m, "x.java", "bob", " "))
                .isInstanceOf(ShapeshiftException.class).hasMessageContaining("--reason");
    }

    private static Check codeCheck(AccessReport r) {
        return AccessGate.checks(r).stream().filter(c -> c.name().equals("old-shape-code")).findFirst().orElseThrow();
    }
}
