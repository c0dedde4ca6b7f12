package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.contract.AccessReport.Reader;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The seed's incident, compressed: an "export" job under a role nobody registered reads the old
 * column once per cycle. The evidence names it by role, application_name and client address with
 * when it was last seen, and keeps doing so after the quiet period has passed and the gate has
 * opened (the 11 PM export is visible at 10 AM). An application role that connects through
 * Shapeshift's connection factory (sessions named shapeshift-*) is still someone else: exclusion
 * rests on the role first.
 */
@ExtendWith(PostgresExtension.class)
class PeriodicReaderIT {
    @Test
    void theExportIsNamedByIdentityAndRemembered(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "periodic");
        String suffix = Long.toHexString(System.nanoTime());
        String export = "export_" + suffix;
        String borrower = "borrower_" + suffix;
        Seed.sql(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_email text)",
                "INSERT INTO users SELECT i, 'u' || i, 'old' || i FROM generate_series(1, 100) i",
                "CREATE ROLE " + export + " LOGIN PASSWORD 'x'", "GRANT SELECT ON users TO " + export,
                "CREATE ROLE " + borrower + " LOGIN PASSWORD 'x'", "GRANT SELECT ON users TO " + borrower);
        String m = "users-email";
        new Catalog(db, "test").create(m, "{\"name\":\"" + m + "\",\"source\":{\"table\":\"users\"},\"mode\":\"in-place\","
                + "\"target\":{\"columns\":[{\"name\":\"email2\",\"type\":\"text\",\"transform\":\"legacy_email\"}]},"
                + "\"contract\":{\"dropColumns\":[\"legacy_email\"],\"quietPeriod\":\"3s\"}}", "test", "test");
        AccessWatch watch = new AccessWatch(db);
        watch.baseline(m);

        Instant before;
        Instant after;
        // One export cycle; its session stays connected (idle) while the watch looks.
        try (Connection job = Seed.connectAs(db, export, "x", "nightly-export");
             Connection app = new Database(db.jdbcUrl(), borrower, "x").connect("demo-app")) {
            before = Instant.now();
            try (PreparedStatement ps = job.prepareStatement("SELECT id, legacy_email FROM users ORDER BY id")) {
                ps.executeQuery().close();
            }
            after = Instant.now();
            try (PreparedStatement ps = app.prepareStatement("SELECT legacy_email FROM users WHERE id = ?")) {
                ps.setLong(1, 7);
                ps.executeQuery().close();
            }
            shapeshiftReads(db);
            AccessReport r = watch.evaluate(m);
            assertThat(r.offenders()).extracting(AccessReport.Statement::role).contains(export, borrower);
            assertThat(r.excluded()).anySatisfy(s -> assertThat(s.query()).contains("legacy_email IS NOT NULL"));
            assertThat(r.readers()).filteredOn(x -> x.role().equals(export) && "nightly-export".equals(x.applicationName()))
                    .singleElement().satisfies(x -> {
                        assertThat(x.clientAddr()).isNotNull();
                        assertThat(x.lastSeen()).isBetween(before.minusMillis(500), after.plusMillis(500));
                        assertThat(x.lastQuery()).contains("legacy_email");
                    });
            assertThat(r.readers()).extracting(Reader::role).contains(borrower).doesNotContain(pg.user());
            assertThat(r.exclusion()).contains(borrower).contains("not Shapeshift's");
            Check closed = quiet(r);
            assertThat(closed.passed()).isFalse();
            assertThat(closed.evidence()).contains(export).contains("application nightly-export");
        }

        // The job is gone; once a whole quiet period passes the gate opens, and the export is still named.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> quiet(watch.evaluate(m)).passed());
        AccessReport later = watch.evaluate(m);
        assertThat(later.offenders()).isEmpty();
        assertThat(later.readers()).filteredOn(x -> x.role().equals(export) && "nightly-export".equals(x.applicationName()))
                .singleElement().satisfies(x -> assertThat(x.lastSeen()).isBefore(later.evaluatedAt().minusSeconds(3)));
    }

    private static Check quiet(AccessReport r) {
        return AccessGate.checks(r).stream().filter(c -> c.name().equals("old-shape-quiet")).findFirst().orElseThrow();
    }

    /** Shapeshift's own read of the old column (a sync refresh), under its own role, in a shapeshift-* session. */
    private static void shapeshiftReads(Database db) throws SQLException {
        try (Connection c = db.connect("worker"); PreparedStatement ps = c.prepareStatement(
                "SELECT id, legacy_email IS NOT NULL FROM users WHERE id = ?")) {
            ps.setLong(1, 3);
            ps.executeQuery().close();
        }
    }
}
