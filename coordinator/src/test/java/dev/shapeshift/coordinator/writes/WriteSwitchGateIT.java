package dev.shapeshift.coordinator.writes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.coordinator.gate.GateClosedException;
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The write switch's gates on a real database, without a running sync (the phase row is set
 * directly: these tests drill the gates, not the way there): a lossy reverse is refused before
 * the write switch with the offending keys; a true one passes; a reverse that does not parse is
 * refused with the database's error; a move that skips a step of the order is refused.
 */
@ExtendWith(PostgresExtension.class)
class WriteSwitchGateIT {
    private final PostgresServer pg;

    WriteSwitchGateIT(PostgresServer pg) {
        this.pg = pg;
    }

    @Test
    void aLossyReverseIsRefusedWithTheOffendingKeys() throws Exception {
        Database db = setUp("lossy", "CASE WHEN email_verified AND id % 100 <> 7 THEN coalesce(legacy_verified_at, now()) END");
        GateReport report = new Transitions(new Catalog(db, "test")).check("ws", Phase.WRITES_SWITCHED);
        Check roundTrip = check(report, "round-trip");
        assertThat(roundTrip.passed()).isFalse();
        // Verified rows are those with id % 3 = 0; the reverse forgets it on id % 100 = 7: 207, 507, 807.
        // 300 rows a chunk: the three keys are found in three different chunks, each its own statement.
        assertThat(roundTrip.evidence()).contains("differs from new on all rows (1000 rows in 4 chunk(s) of 300)",
                "[207]", "[507]", "[807]").doesNotContain("[7]");
    }

    @Test
    void aTrueReversePassesAndTheSampleIsNamed() throws Exception {
        Database db = setUp("true_rev", "CASE WHEN email_verified THEN coalesce(legacy_verified_at, now()) END");
        Check roundTrip = check(new Transitions(new Catalog(db, "test")).check("ws", Phase.WRITES_SWITCHED), "round-trip");
        assertThat(roundTrip.passed()).as(roundTrip.evidence()).isTrue();
        assertThat(roundTrip.evidence()).isEqualTo("transform(reverse(new, old)) = new on all rows (1000 rows in 4 "
                + "chunk(s) of 300)");
    }

    @Test
    void aReverseThatDoesNotParseIsRefusedWithTheDatabasesError() throws Exception {
        Database db = setUp("bad_rev", "CASE WHEN email_verifed THEN now() END");
        Check roundTrip = check(new Transitions(new Catalog(db, "test")).check("ws", Phase.WRITES_SWITCHED), "round-trip");
        assertThat(roundTrip.passed()).isFalse();
        assertThat(roundTrip.evidence()).contains("email_verifed", "does not exist", "fix writes.reverse");
    }

    @Test
    void aMoveThatSkipsAStepOfTheOrderIsRefused() throws Exception {
        Database db = setUp("order", "CASE WHEN email_verified THEN coalesce(legacy_verified_at, now()) END");
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'verified' WHERE name = 'ws'");
        assertThatThrownBy(() -> new Transitions(new Catalog(db, "test")).advance("ws", Phase.READS_SWITCHED, "op", "skip"))
                .isInstanceOf(GateClosedException.class)
                .hasMessageContaining("this migration's order is verified → dual-writes → reads-switched → writes-switched "
                        + "→ contract-ready → contracted")
                .hasMessageContaining("from verified the next step is dual-writes");
    }

    @Test
    void anInstanceStillWritingOnlyTheOldShapeKeepsContractReadyClosedAndIsNamed() throws Exception {
        Database db = setUp("old_writes", "CASE WHEN email_verified THEN coalesce(legacy_verified_at, now()) END");
        Seed.sql(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "CREATE ROLE old_app_" + Math.floorMod(db.hashCode(), 1000)
                + " LOGIN PASSWORD 'old'");
        String role = "old_app_" + Math.floorMod(db.hashCode(), 1000);
        Seed.sql(db, "GRANT SELECT, UPDATE ON public.users TO " + role);
        Database old = new Database(db.jdbcUrl(), role, "old");
        Seed.sql(old, "UPDATE public.users SET legacy_verified_at = now() WHERE id = 1"); // before the switch: not counted
        try (java.sql.Connection c = db.connect("test")) {
            c.setAutoCommit(false);
            MigrationSpec spec = SpecJson.read(new Catalog(db, "test").get("ws").specJson());
            WriteSwitch.atSwitch(c, "ws", spec);
            c.createStatement().execute("UPDATE shapeshift.migration SET phase = 'writes-switched' WHERE name = 'ws'");
            c.commit();
        }
        Transitions t = new Transitions(new Catalog(db, "test"));
        Check clean = check(t.check("ws", Phase.CONTRACT_READY), "no-old-shape-writes");
        assertThat(clean.passed()).as(clean.evidence()).isTrue();

        Seed.sql(old, "UPDATE public.users SET legacy_verified_at = now() WHERE id = 2",
                "UPDATE public.users SET legacy_verified_at = now() WHERE id = 3");
        // A statement writing both shapes (an instance on dual-write code) is not an old-shape write.
        Seed.sql(old, "UPDATE public.users SET legacy_verified_at = now(), email_verified = true WHERE id = 4");
        Check closed = check(t.check("ws", Phase.CONTRACT_READY), "no-old-shape-writes");
        assertThat(closed.passed()).isFalse();
        assertThat(closed.evidence()).contains(role + ": UPDATE public.users SET legacy_verified_at = now() WHERE id = $1 "
                + "(2 call(s) since the write switch, last seen growing at ").doesNotContain("email_verified");
    }

    /**
     * NotNullRelax.restore's validation fails on a NULL written while NOT NULL was relaxed: the
     * drain throws naming the key, the column stays relaxed (so the driver drains again, see
     * WriteSwitchStepTest), and the next drain after the NULL is fixed restores it. Negative control
     * (by hand): with the drain returning at once when the sync already runs forward (the code
     * before), the second drain restores nothing and the last assertions fail.
     */
    @Test
    void aNotNullRestoreThatFailsValidationIsTriedAgainByTheNextDrain() throws Exception {
        Database db = setUp("nn_retry", "CASE WHEN email_verified THEN coalesce(legacy_verified_at, now()) END",
                "contract:\n  dropColumns: [label]\n");
        Seed.sql(db, "ALTER TABLE public.users ADD COLUMN label text NOT NULL DEFAULT 'x'");
        MigrationSpec spec = SpecJson.read(new Catalog(db, "test").get("ws").specJson());
        try (java.sql.Connection c = db.connect("test")) {
            c.setAutoCommit(false);
            assertThat(WriteSwitch.atSwitch(c, "ws", spec)).containsExactly("label");
            c.commit();
        }
        Seed.sql(db, "INSERT INTO public.users (id, label) VALUES (5000, NULL)"); // new code, while relaxed
        Catalog catalog = new Catalog(db, "test");
        assertThatThrownBy(() -> WriteSwitch.drain(db, catalog.get("ws"), java.time.Duration.ofSeconds(5)))
                .hasMessageContaining("1 row(s) have label NULL").hasMessageContaining("[5000]");
        try (java.sql.Connection c = db.connect("test")) {
            assertThat(WriteSwitch.state(c, "ws").relaxed()).as("still relaxed: tried again later").containsExactly("label");
        }
        Seed.sql(db, "UPDATE public.users SET label = 'fixed' WHERE id = 5000");
        assertThat(WriteSwitch.drain(db, catalog.get("ws"), java.time.Duration.ofSeconds(5)))
                .hasValueSatisfying(m -> assertThat(m).contains("NOT NULL restored on [label]"));
        try (java.sql.Connection c = db.connect("test");
             java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT attnotnull FROM pg_attribute WHERE "
                     + "attrelid = 'public.users'::regclass AND attname = 'label'")) {
            assertThat(WriteSwitch.state(c, "ws").relaxed()).isEmpty();
            assertThat(rs.next() && rs.getBoolean(1)).as("NOT NULL restored").isTrue();
        }
    }

    private static Check check(GateReport report, String name) {
        return report.checks().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " check in " + report.checks()));
    }

    /** users with the new column backfilled, a migration with a write switch in reads-switched. */
    private Database setUp(String prefix, String reverse) throws Exception {
        return setUp(prefix, reverse, "");
    }

    /** @param more YAML appended to the spec (top-level sections) */
    private Database setUp(String prefix, String reverse, String more) throws Exception {
        Database db = Seed.database(pg, prefix);
        Seed.sql(db, "CREATE TABLE public.users (id bigint PRIMARY KEY, legacy_verified_at timestamptz, email_verified boolean)",
                "INSERT INTO public.users SELECT g, CASE WHEN g % 3 = 0 THEN now() END, g % 3 = 0 FROM generate_series(1, 1000) g");
        String yaml = UsersSpec.yaml("ws", """
                reconcile:
                  rangeRows: 300
                writes:
                  switch: true
                  reverse:
                    legacy_verified_at: "%s"
                """.formatted(reverse) + more);
        MigrationSpec spec = new SpecReader().read("ws.yaml", yaml);
        new Catalog(db, "test").create("ws", SpecJson.write(spec), yaml, "test");
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'reads-switched' WHERE name = 'ws'");
        return db;
    }
}
