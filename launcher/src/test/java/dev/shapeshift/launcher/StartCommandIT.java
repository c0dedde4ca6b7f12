package dev.shapeshift.launcher;

import static dev.shapeshift.launcher.CliDb.conn;
import static dev.shapeshift.launcher.CliDb.line;
import static dev.shapeshift.launcher.CliDb.sql;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** start, apply, list / status and validate's privilege checks, against a real database. */
@ExtendWith(PostgresExtension.class)
class StartCommandIT {
    private static final String OTHER = UsersSpec.withColumn("users-verified-at", "verified_at", "timestamptz",
            "legacy_verified_at");

    @Test
    void startApplyAndList(PostgresServer pg, @TempDir Path dir) throws Exception {
        String db = usersDatabase(pg, "start");
        String[] conn = conn(pg, db, pg.user(), pg.password(), dir);

        MainTest.Run started = MainTest.run(line(conn, "start", MainTest.EXAMPLE, "--actor", "alice"));
        assertThat(started.exit()).as(started.err()).isZero();
        assertThat(started.out()).contains("users-email-verified: registered in phase planned (from users-email-verified.yaml)")
                .contains("shapeshift status users-email-verified");
        assertThat(rows(pg, db, "SELECT name || ' ' || phase FROM shapeshift.migration")).containsExactly("users-email-verified planned");
        assertThat(rows(pg, db, "SELECT DISTINCT actor FROM shapeshift.audit")).containsExactly("cli:alice");

        MainTest.Run again = MainTest.run(line(conn, "start", MainTest.EXAMPLE));
        assertThat(again.exit()).isZero();
        assertThat(again.out()).contains("already registered with this spec").contains("nothing changed");

        Path changed = dir.resolve("users-email-verified.yaml");
        Files.writeString(changed, Files.readString(Path.of(MainTest.EXAMPLE)).replace("chunkRows: 10000", "chunkRows: 20000"));
        MainTest.Run conflict = MainTest.run(line(conn, "start", changed.toString()));
        assertThat(conflict.exit()).isEqualTo(6);
        assertThat(conflict.err()).contains("backfill.chunkRows (10000 → 20000)").contains("refused, nothing changed");

        // apply: a bad file beside a good one; the good one is registered, the bad one named with field and fix.
        Path specs = Files.createDirectories(dir.resolve("specs"));
        Files.writeString(specs.resolve("a-bad.yaml"), OTHER.replace("transform: legacy_verified_at", "transform: legacy_verifed_at")
                .replace("users-verified-at", "users-bad"));
        Files.writeString(specs.resolve("b-other.yml"), OTHER);
        Files.copy(Path.of(MainTest.EXAMPLE), specs.resolve("c-users.yaml"));
        MainTest.Run applied = MainTest.run(line(conn, "apply", specs.toString()));
        assertThat(applied.exit()).isEqualTo(10);
        assertThat(applied.err()).contains("a-bad.yaml: target.columns[0].transform: column \"legacy_verifed_at\" does not exist")
                .contains(" — ");
        assertThat(applied.out()).contains("users-verified-at: registered in phase planned (from b-other.yml)")
                .contains("already registered with this spec").contains("3 file(s): 2 accepted, 1 refused");
        assertThat(rows(pg, db, "SELECT name FROM shapeshift.migration ORDER BY name"))
                .containsExactly("users-email-verified", "users-verified-at");
        MainTest.Run reapplied = MainTest.run(line(conn, "apply", specs.toString(), "--output", "json"));
        JsonNode json = new ObjectMapper().readTree(reapplied.out());
        assertThat(json.get(1).get("outcome").asText()).isEqualTo("UNCHANGED");
        assertThat(json.get(0).at("/problems/0/path").asText()).isEqualTo("target.columns[0].transform");

        // list / status: phase, time in phase, approvals derived from the phase.
        sql(pg, db, "UPDATE shapeshift.migration SET phase = 'verified', message = 'clean for 5m', "
                + "phase_changed_at = now() - interval '2 hours 5 minutes' WHERE name = 'users-email-verified'");
        MainTest.Run list = MainTest.run(line(conn, "list"));
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(list.out()).containsPattern("users-email-verified +verified +2h 5m +APPROVAL: read switch")
                .contains("— clean for 5m").containsPattern("users-verified-at +planned +\\d+s +the coordinator's driver")
                .contains("2 migration(s), 1 waiting for approval");
        MainTest.Run status = MainTest.run(line(conn, "status", "--output", "json"));
        JsonNode rows = new ObjectMapper().readTree(status.out());
        assertThat(rows.get(0).get("name").asText()).isEqualTo("users-email-verified");
        assertThat(rows.get(0).get("awaitingApproval").asBoolean()).isTrue();
        assertThat(rows.get(0).get("secondsInPhase").asLong()).isGreaterThanOrEqualTo(2 * 3600 + 5 * 60);
        assertThat(rows.get(1).get("awaitingApproval").asBoolean()).isFalse();
    }

    @Test
    void validateAndStartNameTheMissingGrant(PostgresServer pg, @TempDir Path dir) throws Exception {
        String db = usersDatabase(pg, "grants");
        String role = "start_it_" + Long.toHexString(System.nanoTime());
        sql(pg, db, "CREATE ROLE " + role + " LOGIN PASSWORD 'pw-" + role + "'",
                "GRANT CREATE, CONNECT ON DATABASE " + db + " TO " + role,
                "GRANT USAGE ON SCHEMA public TO " + role,
                "GRANT SELECT, UPDATE ON users TO " + role);
        String[] conn = conn(pg, db, role, "pw-" + role, dir);
        MainTest.Run v = MainTest.run(line(conn, "validate", MainTest.EXAMPLE));
        assertThat(v.exit()).isEqualTo(10);
        assertThat(v.out()).contains("users-email-verified.yaml: mode: role " + role + " does not own")
                .contains("as an administrator run: ALTER TABLE \"public\".\"users\" OWNER TO \"" + role + "\";")
                .contains("warning: users-email-verified.yaml: source.table: role " + role + " has no REPLICATION")
                .contains("GRANT pg_read_all_stats TO \"" + role + "\";");

        sql(pg, db, "ALTER TABLE users OWNER TO " + role);
        MainTest.Run ok = MainTest.run(line(conn, "validate", MainTest.EXAMPLE));
        assertThat(ok.exit()).as(ok.out()).isZero();
        assertThat(ok.out()).contains("warning: ").contains("valid — static and live checks");
    }

    /**
     * wait: reached (also when past the phase), timed out (13, saying where it is), and never
     * (12, rolled back). The phases are set in the catalog by hand here: no coordinator runs.
     */
    @Test
    void waitForAPhase(PostgresServer pg, @TempDir Path dir) throws Exception {
        String db = usersDatabase(pg, "wait");
        String[] conn = conn(pg, db, pg.user(), pg.password(), dir);
        assertThat(MainTest.run(line(conn, "start", MainTest.EXAMPLE)).exit()).isZero();

        MainTest.Run timedOut = MainTest.run(line(conn, "wait", "users-email-verified", "--for", "verified",
                "--timeout", "1s", "--interval", "200ms"));
        assertThat(timedOut.exit()).isEqualTo(13);
        assertThat(timedOut.out()).contains("users-email-verified: planned");
        assertThat(timedOut.err()).contains("did not reach verified within 1s; it is planned");

        sql(pg, db, "UPDATE shapeshift.migration SET phase = 'reads-switched', message = 'waiting for the quiet period'");
        MainTest.Run past = MainTest.run(line(conn, "wait", "users-email-verified", "--for", "verified"));
        assertThat(past.exit()).as(past.err()).isZero();
        assertThat(past.out()).contains("reads-switched — waiting for the quiet period")
                .contains("users-email-verified is reads-switched (past verified)");
        MainTest.Run notYetRolledBack = MainTest.run(line(conn, "wait", "users-email-verified", "--for", "rolled-back",
                "--timeout", "300ms", "--interval", "100ms", "--quiet"));
        assertThat(notYetRolledBack.exit()).isEqualTo(13);
        assertThat(notYetRolledBack.out()).isEmpty();

        sql(pg, db, "UPDATE shapeshift.migration SET phase = 'rolled-back', message = null");
        MainTest.Run never = MainTest.run(line(conn, "wait", "users-email-verified", "--for", "contracted"));
        assertThat(never.exit()).isEqualTo(12);
        assertThat(never.err()).contains("is rolled-back and can no longer reach contracted");
        MainTest.Run badPhase = MainTest.run(line(conn, "wait", "users-email-verified", "--for", "done"));
        assertThat(badPhase.exit()).isEqualTo(2);
        assertThat(badPhase.err()).contains("unknown phase 'done'");
    }

    /** A database with the example's source table, {@code users}, empty; returns its name. */
    private static String usersDatabase(PostgresServer pg, String prefix) throws Exception {
        String db = pg.createDatabase(prefix);
        sql(pg, db, "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_verified_at timestamptz)");
        return db;
    }

    private static List<String> rows(PostgresServer pg, String db, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = pg.connect(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
