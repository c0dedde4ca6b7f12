package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.contract.AccessReport.Dependent;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Views, rules and functions on the old column keep the contract gate closed and are named, from
 * pg_depend/pg_rewrite and from function bodies; objects on a similarly named column
 * ({@code legacy_email_sent}) or on the same column name of another table do not count.
 */
@ExtendWith(PostgresExtension.class)
class DependentsIT {
    @Test
    void viewsRulesAndFunctionsOnTheOldColumnAreNamedAndCloseTheGate(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "dependents");
        Seed.sql(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_email text, legacy_email_sent boolean)",
                "CREATE TABLE contacts (id bigint PRIMARY KEY, legacy_email text)",
                "CREATE TABLE email_log (id bigint, email text)",
                // the old column's users
                "CREATE VIEW v_users AS SELECT id, legacy_email FROM users",
                "CREATE MATERIALIZED VIEW m_users AS SELECT id, upper(legacy_email) AS e FROM users",
                "CREATE RULE log_legacy AS ON UPDATE TO users DO ALSO INSERT INTO email_log VALUES (NEW.id, NEW.legacy_email)",
                "CREATE FUNCTION email_of(bigint) RETURNS text LANGUAGE sql AS 'SELECT legacy_email FROM users WHERE id = $1'",
                "CREATE FUNCTION touch_legacy(p bigint) RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
                        + "UPDATE public.\"users\" SET \"legacy_email\" = lower(legacy_email) WHERE id = p; END $$",
                "CREATE FUNCTION std_email(p bigint) RETURNS text LANGUAGE sql BEGIN ATOMIC "
                        + "SELECT u.legacy_email FROM users u WHERE u.id = p; END",
                // similarly named, or another table: not the old column
                "CREATE VIEW v_sent AS SELECT id, legacy_email_sent FROM users",
                "CREATE FUNCTION sent_of(bigint) RETURNS boolean LANGUAGE sql AS 'SELECT legacy_email_sent FROM users WHERE id = $1'",
                "CREATE FUNCTION contact_email(bigint) RETURNS text LANGUAGE sql AS 'SELECT legacy_email FROM contacts WHERE id = $1'",
                "CREATE VIEW v_contacts AS SELECT legacy_email FROM contacts");
        String m = "users-email";
        new Catalog(db, "test").create(m, "{\"name\":\"" + m + "\",\"source\":{\"table\":\"users\"},\"mode\":\"in-place\","
                + "\"target\":{\"columns\":[{\"name\":\"email2\",\"type\":\"text\",\"transform\":\"legacy_email\"}]},"
                + "\"contract\":{\"dropColumns\":[\"legacy_email\"],\"quietPeriod\":\"1h\"}}", "test", "test");
        // The independent witness for the pg_depend part: PostgreSQL itself refuses the drop.
        assertThatThrownBy(() -> Seed.sql(db, "BEGIN", "ALTER TABLE users DROP COLUMN legacy_email", "ROLLBACK"))
                .isInstanceOf(SQLException.class).hasMessageContaining("other objects depend on it");

        AccessReport r = new AccessWatch(db).evaluate(m);
        assertThat(r.dependents()).extracting(Dependent::name, Dependent::kind).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("public.v_users", "view"),
                org.assertj.core.groups.Tuple.tuple("public.m_users", "materialized view"),
                org.assertj.core.groups.Tuple.tuple("log_legacy on public.users", "rule"),
                org.assertj.core.groups.Tuple.tuple("email_of(bigint)", "function"),
                org.assertj.core.groups.Tuple.tuple("touch_legacy(bigint)", "function"),
                org.assertj.core.groups.Tuple.tuple("std_email(bigint)", "function"));
        assertThat(r.dependents()).filteredOn(d -> d.name().equals("email_of(bigint)")).singleElement()
                .satisfies(d -> assertThat(d.how()).contains("sql body"));
        assertThat(r.dependents()).filteredOn(d -> d.name().equals("public.v_users")).singleElement()
                .satisfies(d -> assertThat(d.how()).contains("legacy_email").contains("pg_depend"));
        Check closed = dependentsCheck(r);
        assertThat(closed.passed()).isFalse();
        assertThat(closed.evidence()).contains("6 database object(s)").contains("public.v_users (view");

        // Negative control: without them, only the look-alikes remain and the check passes.
        Seed.sql(db, "DROP VIEW v_users", "DROP MATERIALIZED VIEW m_users", "DROP RULE log_legacy ON users",
                "DROP FUNCTION email_of(bigint)", "DROP FUNCTION touch_legacy(bigint)", "DROP FUNCTION std_email(bigint)");
        AccessReport after = new AccessWatch(db).evaluate(m);
        assertThat(after.dependents()).isEmpty();
        assertThat(dependentsCheck(after).passed()).isTrue();
        Seed.sql(db, "BEGIN", "ALTER TABLE users DROP COLUMN legacy_email", "ROLLBACK");
    }

    private static Check dependentsCheck(AccessReport r) {
        List<Check> checks = AccessGate.checks(r);
        return checks.stream().filter(c -> c.name().equals("old-shape-dependents")).findFirst().orElseThrow();
    }
}
