package dev.shapeshift.coordinator.register;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.register.Registration.Outcome;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.phase.Phase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Registration against a real catalog: every outcome, each checked by reading the catalog tables directly. */
@ExtendWith(PostgresExtension.class)
class RegistrarIT {
    static final String SPEC = UsersSpec.yaml("users-email-verified", """
            mode: in-place
            backfill:
              chunkRows: 1000
            """);

    private Database db;
    private Registrar registrar;

    @BeforeEach
    void database(PostgresServer pg) throws SQLException {
        db = Seed.database(pg, "register");
        Seed.sql(db, "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_verified_at timestamptz)",
                "INSERT INTO users SELECT i, 'u' || i || '@example.com', CASE WHEN i % 2 = 0 THEN now() END "
                        + "FROM generate_series(1, 100) i");
        registrar = new Registrar(db, "test");
    }

    @Test
    void newSpecIsCreatedInPlannedAndAudited() throws SQLException {
        Registration r = registrar.register("users.yaml", SPEC);
        assertThat(r.outcome()).isEqualTo(Outcome.CREATED);
        assertThat(r.phase()).isEqualTo(Phase.PLANNED);
        assertThat(r.message()).contains("users-email-verified").contains("planned").contains("driver");
        assertThat(rows("SELECT phase || ' ' || (spec #>> '{target,columns,0,transform}') || ' ' || spec_source "
                + "FROM shapeshift.migration")).containsExactly("planned legacy_verified_at IS NOT NULL " + SPEC);
        assertThat(rows("SELECT action || ' ' || actor FROM shapeshift.audit ORDER BY id"))
                .containsExactly("create test", "register test");
        // JDBC only: the expand has not run (the driver does that).
        assertThat(rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'users' "
                + "AND column_name = 'email_verified'")).isEmpty();
    }

    @Test
    void sameSpecAgainIsANoOpThatSaysSo() throws SQLException {
        registrar.register("users.yaml", SPEC);
        List<String> before = rows("SELECT version || ' ' || updated_at FROM shapeshift.migration");
        // Same content, different layout and explicit defaults: still the same spec.
        Registration again = registrar.register("users.yaml", SPEC.replace("mode: in-place\n", "") + "reconcile:\n  interval: 5m\n");
        assertThat(again.outcome()).isEqualTo(Outcome.UNCHANGED);
        assertThat(again.message()).contains("already registered with this spec").contains("nothing changed");
        assertThat(rows("SELECT version || ' ' || updated_at FROM shapeshift.migration")).isEqualTo(before);
        assertThat(rows("SELECT count(*) FROM shapeshift.audit")).containsExactly("2");
    }

    @Test
    void changedSpecOfARunningMigrationIsRefusedNamingTheFields() throws SQLException {
        registrar.register("users.yaml", SPEC);
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'backfilling'");
        Registration r = registrar.register("users.yaml", SPEC.replace("IS NOT NULL", "IS NULL")
                .replace("chunkRows: 1000", "chunkRows: 2000"));
        assertThat(r.outcome()).isEqualTo(Outcome.CONFLICT);
        assertThat(r.differences()).containsExactly("backfill.chunkRows (1000 → 2000)",
                "target.columns[0].transform (\"legacy_verified_at IS NOT NULL\" → \"legacy_verified_at IS NULL\")");
        assertThat(r.message()).startsWith("users.yaml: migration users-email-verified (phase backfilling)")
                .contains("target.columns[0].transform").contains("refused, nothing changed")
                .contains("shapeshift rollback users-email-verified");
        assertThat(rows("SELECT spec #>> '{target,columns,0,transform}' FROM shapeshift.migration"))
                .containsExactly("legacy_verified_at IS NOT NULL");
        assertThat(rows("SELECT count(*) FROM shapeshift.audit")).containsExactly("2");
    }

    @Test
    void aChangedLiveKnobBecomesTheSettingAndReapplyingIsANoOp() throws SQLException {
        registrar.register("users.yaml", SPEC);
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'backfilling'");
        String faster = SPEC + "  maxRowsPerSecond: 500\n";
        Registration r = registrar.register("users.yaml", faster);
        assertThat(r.outcome()).isEqualTo(Outcome.KNOBS_CHANGED);
        assertThat(r.differences()).containsExactly("backfill.maxRowsPerSecond (0 → 500)");
        assertThat(rows("SELECT name || '=' || value FROM shapeshift.setting")).containsExactly("max-rows-per-second=500");
        assertThat(rows("SELECT phase FROM shapeshift.migration")).containsExactly("backfilling");
        assertThat(registrar.register("users.yaml", faster).outcome()).isEqualTo(Outcome.UNCHANGED);
        // An operator's later `backfill set` is not overwritten by re-applying the unchanged file.
        Seed.sql(db, "UPDATE shapeshift.setting SET value = '9000'");
        assertThat(registrar.register("users.yaml", faster).outcome()).isEqualTo(Outcome.UNCHANGED);
        assertThat(rows("SELECT value FROM shapeshift.setting")).containsExactly("9000");
    }

    @Test
    void aFinishedMigrationsNameCannotTakeANewSpec() throws SQLException {
        registrar.register("users.yaml", SPEC);
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'rolled-back'");
        Registration r = registrar.register("users.yaml", SPEC + "  maxRowsPerSecond: 500\n");
        assertThat(r.outcome()).isEqualTo(Outcome.CONFLICT);
        assertThat(r.message()).contains("rolled-back").contains("new name");
    }

    @Test
    void aFinishedMigrationStartsAgainUnderItsNameOnlyWhenAskedAndOnlyOnceCleanedUp() throws SQLException {
        registrar.register("users.yaml", SPEC);
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'rolled-back'");
        Registration same = registrar.register("users.yaml", SPEC);
        assertThat(same.outcome()).isEqualTo(Outcome.UNCHANGED);
        assertThat(same.message()).contains("it is finished").contains("shapeshift start users.yaml --again");

        Registration early = registrar.again().register("users.yaml", SPEC);
        assertThat(early.outcome()).as("clean-up has not finished").isEqualTo(Outcome.CONFLICT);
        assertThat(early.message()).contains("shapeshift cleanup");
        assertThat(rows("SELECT phase FROM shapeshift.migration")).containsExactly("rolled-back");

        Seed.sql(db, "UPDATE shapeshift.migration SET cleaned_up_at = now()");
        Registration again = registrar.again().register("users.yaml", SPEC);
        assertThat(again.outcome()).isEqualTo(Outcome.CREATED);
        assertThat(rows("SELECT name || ' ' || phase FROM shapeshift.migration ORDER BY name"))
                .containsExactly("users-email-verified planned", "users-email-verified~1 rolled-back");
    }

    @Test
    void invalidSpecNamesTheFileTheFieldAndTheFixAndRegistersNothing() throws SQLException {
        Registration r = registrar.register("users.yaml", SPEC.replace("legacy_verified_at IS", "legacy_verifed_at IS"));
        assertThat(r.outcome()).isEqualTo(Outcome.INVALID);
        assertThat(r.problems()).extracting(p -> p.path()).containsExactly("target.columns[0].transform");
        assertThat(r.message()).startsWith("users.yaml: target.columns[0].transform:")
                .contains("legacy_verifed_at").contains("did you mean legacy_verified_at");
        Registration malformed = registrar.register("broken.yaml", SPEC.replace("chunkRows", "chunkRow"));
        assertThat(malformed.outcome()).isEqualTo(Outcome.INVALID);
        assertThat(malformed.message()).startsWith("broken.yaml:").contains("backfill.chunkRow").contains("chunkRows");
        assertThat(rows("SELECT count(*) FROM shapeshift.migration")).containsExactly("0");
    }

    private List<String> rows(String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect("test"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
