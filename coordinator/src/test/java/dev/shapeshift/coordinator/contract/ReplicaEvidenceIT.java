package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.embedded.StreamingReplica;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The seed's incident on a read replica: a real streaming hot standby of the embedded server, and
 * an "export" job under a role nobody registered that reads the old column there once per cycle.
 * The evidence reads the replica's pg_stat_statements over a read-only connection and stores its
 * snapshots through the primary's catalog: the gate stays closed and names the job at every look
 * while it runs; once it stops and a whole quiet period passes, the gate opens. Negative control:
 * without the replica configured, the same reads leave the gate open (the primary sees nothing).
 */
class ReplicaEvidenceIT {
    private static EmbeddedPostgres primary;
    private static StreamingReplica replica;

    @BeforeAll
    static void start() {
        primary = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests());
        replica = StreamingReplica.start(primary);
    }

    @AfterAll
    static void stop() {
        if (replica != null) {
            replica.close();
        }
        if (primary != null) {
            primary.close();
        }
    }

    @Test
    void theExportOnTheReplicaKeepsTheGateClosedAndIsNamedUntilItStops() throws Exception {
        Exporting job = setUp("replica_ev");
        job.watch().addReplica("reporting", replica.jdbcUrl(job.database()), "test");
        job.watch().baseline("users-email");

        // The export runs a few cycles on the replica; every look in between keeps the gate closed and names it.
        for (int cycle = 0; cycle < 3; cycle++) {
            exportOnReplica(job.database(), job.export());
            AccessReport r = job.watch().evaluate("users-email");
            assertThat(r.replicas()).singleElement().satisfies(x -> {
                assertThat(x.problem()).isNull();
                assertThat(x.inRecovery()).isTrue();
            });
            if (cycle == 0) {
                continue;   // the first look at the replica is its baseline
            }
            Check closed = check(r, "replica-quiet");
            assertThat(closed.passed()).isFalse();
            assertThat(closed.evidence()).contains("replica reporting").contains("role " + job.export()).contains("legacy_email");
            assertThat(r.readers()).anySatisfy(x -> {
                assertThat(x.role()).isEqualTo(job.export());
                assertThat(x.clientAddr()).contains("replica reporting");
            });
            assertThat(r.offenders()).as("nothing ran on the primary").isEmpty();
            assertThat(check(r, "old-shape-quiet").passed()).isFalse();
        }
        assertThat(replicaIsReadOnly(job.database())).as("the replica is read-only").isTrue();

        // The job stopped: a whole quiet period later the gate opens, and the export is still listed as a reader.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> AccessGate.checks(job.watch().evaluate("users-email")).stream().allMatch(Check::passed));
        AccessReport later = job.watch().evaluate("users-email");
        assertThat(check(later, "replica-quiet").evidence()).contains("reporting");
        assertThat(later.readers()).extracting(AccessReport.Reader::role).contains(job.export());

        // A replica that cannot be read closes the gate: its readers cannot be seen.
        job.watch().addReplica("gone", "jdbc:postgresql://127.0.0.1:1/" + job.database(), "test");
        Check unreachable = check(job.watch().evaluate("users-email"), "replica-quiet");
        assertThat(unreachable.passed()).isFalse();
        assertThat(unreachable.evidence()).contains("replica gone").contains("cannot read the replica");
    }

    @Test
    void withoutTheReplicaConfiguredTheSameReadsLeaveTheGateOpen() throws Exception {
        Exporting job = setUp("replica_blind");
        job.watch().baseline("users-email");
        exportOnReplica(job.database(), job.export());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
            exportOnReplica(job.database(), job.export());   // it keeps running, unseen
            return AccessGate.checks(job.watch().evaluate("users-email")).stream().allMatch(Check::passed);
        });
        AccessReport r = job.watch().evaluate("users-email");
        assertThat(r.replicas()).isEmpty();
        assertThat(r.readers()).extracting(AccessReport.Reader::role).doesNotContain(job.export());
    }

    /** A test's source database, its export job's role, and an access watch on the database (no baseline yet). */
    private record Exporting(String database, String export, AccessWatch watch) {
    }

    /**
     * A database with the old column and a new export job's role, replayed on the replica; the
     * migration's quiet period is 3s.
     */
    private static Exporting setUp(String prefix) throws Exception {
        String export = "export_" + Long.toHexString(System.nanoTime());
        String name = primary.createDatabase(prefix);
        Database db = new Database(primary.jdbcUrl(name), primary.user(), primary.password());
        CatalogSchema.migrate(db);
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            s.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_email text, email2 text)");
            s.execute("INSERT INTO users SELECT i, 'u' || i, 'old' || i, 'old' || i FROM generate_series(1, 100) i");
            s.execute("CREATE ROLE " + export + " LOGIN PASSWORD 'x'");
            s.execute("GRANT SELECT ON users TO " + export);
        }
        new Catalog(db, "test").create("users-email", "{\"name\":\"users-email\",\"source\":{\"table\":\"users\"},"
                + "\"mode\":\"in-place\",\"target\":{\"columns\":[{\"name\":\"email2\",\"type\":\"text\",\"transform\":"
                + "\"legacy_email\"}]},\"contract\":{\"dropColumns\":[\"legacy_email\"],\"quietPeriod\":\"3s\"}}", "test", "test");
        String lsn;
        try (Connection c = primary.connect(name); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            lsn = rs.getString(1);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> replica.caughtUp(lsn));
        return new Exporting(name, export, new AccessWatch(db));
    }

    /** One cycle of the nightly export, on the replica: connect, read the old column, disconnect. */
    private static void exportOnReplica(String database, String role) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", role);
        p.setProperty("password", "x");
        p.setProperty("ApplicationName", "nightly-export");
        try (Connection c = DriverManager.getConnection(replica.jdbcUrl(database), p); Statement s = c.createStatement()) {
            s.executeQuery("SELECT id, legacy_email FROM users ORDER BY id").close();
        }
    }

    private static boolean replicaIsReadOnly(String database) {
        try (Connection c = replica.connect(database); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE nope (id int)");
            return false;
        } catch (SQLException e) {
            return "25006".equals(e.getSQLState());
        }
    }

    private static Check check(AccessReport r, String name) {
        List<Check> all = AccessGate.checks(r);
        return all.stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + name + " in " + all));
    }
}
