package dev.shapeshift.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.embedded.DocumentedGrants;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.spec.PrivilegeFinding.Severity;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The privilege checks against roles built from exactly the grants the project documents: the
 * statements of deploy/postgres/init/ (read from those files, so the two cannot drift apart).
 * With all of them nothing is reported; with one left out, the finding names the GRANT that fixes it.
 */
@ExtendWith(PostgresExtension.class)
class PrivilegesIT {
    private static final Path INIT = Path.of("..", "deploy", "postgres", "init");
    private static final String PASSWORD = "privileges-it-pw";

    private final PostgresServer pg;

    PrivilegesIT(PostgresServer pg) {
        this.pg = pg;
    }

    @Test
    void theDocumentedGrantsAreEnoughForBothModes() throws Exception {
        String role = role();
        try (Connection c = setUp(role, s -> true)) {
            Validation inPlace = SpecValidator.check(example("users-email-verified.yaml"), c);
            assertThat(inPlace.problems()).isEmpty();
            assertThat(Privileges.check(inPlace.spec(), c)).isEmpty();
            MigrationSpec table = tableMode();
            assertThat(SpecValidator.check(table, c).problems()).isEmpty();
            assertThat(Privileges.check(table, c)).isEmpty();
        }
    }

    @Test
    void withoutOwnershipInPlaceExpandIsAnErrorNamingTheStatement() throws Exception {
        String role = role();
        try (Connection c = setUp(role, s -> !s.contains("OWNER TO"))) {
            MigrationSpec spec = example("users-email-verified.yaml");
            List<PrivilegeFinding> f = Privileges.check(spec, c);
            // Ownership carried every table privilege too: SELECT (read) and UPDATE (in-place writes) go with it.
            assertThat(f).extracting(PrivilegeFinding::step).containsExactly("backfill", "expand", "backfill");
            assertThat(f).extracting(PrivilegeFinding::grant).contains(
                    "GRANT SELECT ON TABLE \"public\".\"users\" TO \"" + role + "\";",
                    "GRANT UPDATE ON TABLE \"public\".\"users\" TO \"" + role + "\";");
            PrivilegeFinding owner = f.get(1);
            assertThat(owner.severity()).isEqualTo(Severity.ERROR);
            assertThat(owner.path()).isEqualTo("mode");
            // The owner here is a superuser: membership in it is no fix to suggest.
            assertThat(owner.grant()).isEqualTo("ALTER TABLE \"public\".\"users\" OWNER TO \"" + role + "\";");
            Validation v = Privileges.withErrors(SpecValidator.check(spec, c), f);
            assertThat(v.valid()).isFalse();
            assertThat(v.problems().get(1).describe("users.yaml")).startsWith("users.yaml: mode: role " + role
                    + " does not own \"public\".\"users\" (owner: " + pg.user() + ")").contains("as an administrator run: ALTER TABLE");
            // The bridge's publication needs it too in table mode, where it is a warning (the bridge may be another role).
            List<PrivilegeFinding> table = Privileges.check(tableMode(), c);
            assertThat(table).extracting(PrivilegeFinding::step).containsExactly("backfill", "sync", "cdc-bridge");
            assertThat(table.get(2).severity()).isEqualTo(Severity.WARNING);
        }
    }

    @Test
    void withoutReplicationTheBridgeWarningNamesAlterRole() throws Exception {
        String role = role();
        try (Connection c = setUp(role, s -> true)) {
            try (Connection admin = pg.connect("postgres"); Statement s = admin.createStatement()) {
                s.execute("ALTER ROLE " + role + " NOREPLICATION");
            }
            assertThat(onlyWarning(c, "cdc-bridge").grant()).startsWith("ALTER ROLE \"" + role + "\" REPLICATION;");
        }
    }

    @Test
    void withoutReadAllStatsTheContractWarningNamesTheGrant() throws Exception {
        String role = role();
        try (Connection c = setUp(role, s -> !s.contains("pg_read_all_stats"))) {
            assertThat(onlyWarning(c, "contract").grant()).isEqualTo("GRANT pg_read_all_stats TO \"" + role + "\";");
        }
    }

    @Test
    void withoutCreateOnTheSchemaTableModeIsAnErrorNamingTheGrant() throws Exception {
        String role = role();
        try (Connection c = setUp(role, s -> !s.startsWith("GRANT CREATE ON SCHEMA"))) {
            assertThat(Privileges.check(example("users-email-verified.yaml"), c)).isEmpty();
            PrivilegeFinding f = only(Privileges.check(tableMode(), c), "expand");
            assertThat(f.severity()).isEqualTo(Severity.ERROR);
            assertThat(f.path()).isEqualTo("target.schema");
            assertThat(f.grant()).isEqualTo("GRANT CREATE ON SCHEMA \"public\" TO \"" + role + "\";");
        }
    }

    @Test
    void aBrownoutWarnsWhenTheRoleCannotReadTheServerLogOrTheServerWritesNoCsvLog() throws Exception {
        String role = role();
        try (Connection c = setUp(role, s -> true)) {
            MigrationSpec spec = new SpecReader().read("users.yaml", java.nio.file.Files.readString(Path.of("..", "examples",
                    "users-email-verified.yaml")) + "  brownout: 15m\n");
            assertThat(spec.contract().brownout()).hasMinutes(15);
            List<PrivilegeFinding> f = Privileges.check(spec, c);
            assertThat(f).extracting(PrivilegeFinding::step).containsOnly("brownout");
            assertThat(f).allSatisfy(x -> assertThat(x.severity()).isEqualTo(Severity.WARNING));
            assertThat(f).extracting(PrivilegeFinding::grant).contains("GRANT pg_monitor, pg_read_server_files TO \"" + role + "\";");
            assertThat(f).extracting(PrivilegeFinding::message).anyMatch(m -> m.contains("no CSV log"));
            assertThat(Privileges.check(example("users-email-verified.yaml"), c)).as("no brownout, no warning").isEmpty();
        }
    }

    /** The example spec's one finding, of {@code step}, a warning. */
    private static PrivilegeFinding onlyWarning(Connection c, String step) throws Exception {
        PrivilegeFinding f = only(Privileges.check(example("users-email-verified.yaml"), c), step);
        assertThat(f.severity()).isEqualTo(Severity.WARNING);
        return f;
    }

    private static PrivilegeFinding only(List<PrivilegeFinding> findings, String step) {
        assertThat(findings).extracting(PrivilegeFinding::step).containsExactly(step);
        return findings.get(0);
    }

    private static MigrationSpec example(String file) {
        return new SpecReader().read(Path.of("..", "examples", file));
    }

    private static MigrationSpec tableMode() {
        return new SpecReader().read("users-table.yaml", UsersSpec.tableMode("users-v2", UsersSpec.EMAIL_VERIFIED, ""));
    }

    /**
     * Backfill sessions' replication origins (docs/sync.md): the documented grants let two sessions
     * take two different pool origins; without the grant a session goes on without one (the echo
     * mark alone) instead of failing.
     */
    @Test
    void theDocumentedGrantsLetBackfillSessionsTakeAReplicationOriginAndWithoutThemTheyGoOnWithout() throws Exception {
        try (Connection one = setUp(role(), s -> true)) {
            try (Statement s = one.createStatement(); java.sql.ResultSet rs = s.executeQuery("SHOW server_version_num")) {
                rs.next();
                org.junit.jupiter.api.Assumptions.assumeTrue(rs.getInt(1) >= dev.shapeshift.refresh.BackfillOrigin.MIN_SERVER_VERSION);
            }
            String first = dev.shapeshift.refresh.BackfillOrigin.attach(one);
            assertThat(first).startsWith(dev.shapeshift.refresh.BackfillOrigin.PREFIX);
            Properties p = new Properties();
            p.setProperty("user", one.getMetaData().getUserName());
            p.setProperty("password", PASSWORD);
            try (Connection two = DriverManager.getConnection(one.getMetaData().getURL(), p)) {
                String second = dev.shapeshift.refresh.BackfillOrigin.attach(two);
                assertThat(second).startsWith(dev.shapeshift.refresh.BackfillOrigin.PREFIX).isNotEqualTo(first);
                dev.shapeshift.refresh.BackfillOrigin.detach(two);
            }
            dev.shapeshift.refresh.BackfillOrigin.detach(one);
        }
        try (Connection without = setUp(role(), s -> !s.contains("pg_replication_origin"))) {
            assertThat(dev.shapeshift.refresh.BackfillOrigin.attach(without)).isNull();
            try (Statement s = without.createStatement()) {
                s.execute("SELECT 1"); // the session is still usable
            }
        }
    }

    /**
     * Sync sessions take their origins from the upper half of the same pool only (docs/sync.md), so
     * with four sync sessions holding one each, a fifth goes on without one while a backfill session
     * still gets one: the pool stays at {@code POOL} entries and the backfill keeps half of it.
     */
    @Test
    void syncSessionsTakeOnlyTheUpperHalfOfTheOriginPool() throws Exception {
        int pool = dev.shapeshift.refresh.BackfillOrigin.POOL;
        java.util.List<Connection> open = new java.util.ArrayList<>();
        try (Connection first = setUp(role(), s -> true)) {
            try (Statement s = first.createStatement(); java.sql.ResultSet rs = s.executeQuery("SHOW server_version_num")) {
                rs.next();
                org.junit.jupiter.api.Assumptions.assumeTrue(rs.getInt(1) >= dev.shapeshift.refresh.BackfillOrigin.MIN_SERVER_VERSION);
            }
            Properties p = new Properties();
            p.setProperty("user", first.getMetaData().getUserName());
            p.setProperty("password", PASSWORD);
            java.util.Set<String> taken = new java.util.TreeSet<>();
            for (int i = 0; i < pool / 2; i++) {
                Connection c = DriverManager.getConnection(first.getMetaData().getURL(), p);
                open.add(c);
                taken.add(dev.shapeshift.refresh.BackfillOrigin.attachSync(c));
            }
            java.util.Set<String> upper = new java.util.TreeSet<>();
            for (int i = pool / 2; i < pool; i++) {
                upper.add(dev.shapeshift.refresh.BackfillOrigin.PREFIX + i);
            }
            assertThat(taken).as("the sync sessions' origins").isEqualTo(upper);
            Connection fifth = DriverManager.getConnection(first.getMetaData().getURL(), p);
            open.add(fifth);
            assertThat(dev.shapeshift.refresh.BackfillOrigin.attachSync(fifth)).as("a fifth sync session").isNull();
            String backfill = dev.shapeshift.refresh.BackfillOrigin.attach(first);
            assertThat(backfill).as("a backfill session meanwhile").isNotNull().isNotIn(upper);
            dev.shapeshift.refresh.BackfillOrigin.detach(first);
        } finally {
            for (Connection c : open) {
                c.close();
            }
        }
    }

    private static String role() {
        return "privileges_it_" + Long.toHexString(System.nanoTime());
    }

    /**
     * A new database set up by the documented init statements, with the role renamed to {@code role}
     * and only the statements {@code keep} accepts; a connection as that role.
     */
    private Connection setUp(String role, Predicate<String> keep) throws SQLException {
        String db = pg.createDatabase("privileges");
        try (Connection admin = pg.connect(db); Statement s = admin.createStatement()) {
            for (String mine : DocumentedGrants.statements(INIT, role, PASSWORD, db)) {
                if (keep.test(mine) || mine.startsWith("CREATE ROLE") || mine.startsWith("CREATE TABLE")
                        || mine.startsWith("INSERT")) {
                    s.execute(mine);
                }
            }
        }
        Properties p = new Properties();
        p.setProperty("user", role);
        p.setProperty("password", PASSWORD);
        return DriverManager.getConnection(pg.jdbcUrl(db), p);
    }
}
