package dev.shapeshift.coordinator.drive;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecReader;
import java.sql.SQLException;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The driver chooses a step from a snapshot and takes it a moment later. An operator's command in
 * that moment (found in the demo: the contract committed, then the driver started a reconcile pass
 * chosen before it, which read the dropped column and logged a failed step) must not make the
 * driver run a pass for a phase that is gone, nor report a failure for a pass the move overtook.
 * Negative control: without the driver's phase re-check, the first test finds a reconcile run and
 * the second a failed step backing off.
 */
@ExtendWith(PostgresExtension.class)
class OvertakenReconcileIT {

    @Test
    void aReconcileChosenBeforeTheOperatorMovedTheMigrationDoesNotStart(PostgresServer pg) throws Exception {
        Database db = verified(pg, "overtaken_start");
        MigrationDriver driver = driver(db, () -> false)
                .beforeEachStep(once(() -> Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'reads-switched' "
                        + "WHERE name = 'ov'")));

        assertThat(driver.tick().kind()).as("chosen in verified").isEqualTo(Step.Kind.RECONCILE);
        assertThat(Seed.count(db, "SELECT count(*) FROM shapeshift.reconcile_run WHERE migration = 'ov'"))
                .as("no pass for a phase that is gone").isZero();
        assertThat(driver.notBefore()).as("not a failure").isEqualTo(Instant.MIN);
    }

    @Test
    void aReconcileOvertakenByTheContractWhileItRunsEndsWithoutAFailure(PostgresServer pg) throws Exception {
        Database db = verified(pg, "overtaken_run");
        // The first look at the stop flag is the moment the "contract" lands: the old column goes.
        AtomicBoolean contracted = new AtomicBoolean();
        MigrationDriver driver = driver(db, () -> {
            if (contracted.compareAndSet(false, true)) {
                try {
                    Seed.sql(db, "ALTER TABLE users DROP COLUMN legacy_verified_at",
                            "UPDATE shapeshift.migration SET phase = 'contracted' WHERE name = 'ov'");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }
            return false;
        });

        assertThat(driver.tick().kind()).isEqualTo(Step.Kind.RECONCILE);
        assertThat(contracted).as("the pass ran into the contract").isTrue();
        assertThat(driver.notBefore()).as("no failed step backing off").isEqualTo(Instant.MIN);
        assertThat(new Catalog(db, "test").get("ov").message()).doesNotContain("failed");
    }

    /** Users with the old and the new column, and the migration {@code ov} in phase verified. */
    private static Database verified(PostgresServer pg, String prefix) throws SQLException {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase(prefix)), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        Seed.sql(db, "CREATE TABLE public.users (id bigint PRIMARY KEY, email text, legacy_verified_at timestamptz, "
                        + "email_verified boolean)",
                "INSERT INTO users SELECT g, 'u' || g || '@x', CASE WHEN g % 2 = 0 THEN now() END, g % 2 = 0 "
                        + "FROM generate_series(1, 50) g");
        String yaml = UsersSpec.yaml("ov");
        MigrationSpec spec = new SpecReader().read("ov.yaml", yaml);
        new Catalog(db, "test").create(spec.name(), SpecJson.write(spec), yaml, "test");
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'verified', phase_changed_at = now() WHERE name = 'ov'");
        return db;
    }

    private static MigrationDriver driver(Database db, java.util.function.BooleanSupplier stop) {
        return new MigrationDriver("ov", db, GateWiring.transitions(db, "coordinator"), DriveConfig.on("127.0.0.1:9", 1),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), stop, HaltPoint.NONE);
    }

    /** What an operator does, once. */
    private interface Move {
        void run() throws SQLException;
    }

    private static Runnable once(Move move) {
        AtomicBoolean done = new AtomicBoolean();
        return () -> {
            if (done.compareAndSet(false, true)) {
                try {
                    move.run();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }
}
