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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The driver rewrites the migration's message on every tick while it waits; what a worker or the
 * bridge reports (a sync stopped at a poison record, a source table that changed) must stay in it,
 * read from where they store it durably, instead of being overwritten within a second.
 */
@ExtendWith(PostgresExtension.class)
class DriverMessageIT {
    @Test
    void aStoppedSyncStaysInTheMessageTheDriverWritesWhileItWaits(PostgresServer pg) throws Exception {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase("driver_msg")), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        Seed.sql(db, "CREATE TABLE public.users (id bigint PRIMARY KEY, legacy_verified_at timestamptz, email_verified boolean)");
        String yaml = UsersSpec.yaml("msg");
        MigrationSpec spec = new SpecReader().read("msg.yaml", yaml);
        Catalog catalog = new Catalog(db, "test");
        catalog.create(spec.name(), SpecJson.write(spec), yaml, "test");
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'expanded' WHERE name = 'msg'");
        MigrationDriver driver = new MigrationDriver(spec.name(), db, GateWiring.transitions(db, "coordinator"),
                DriveConfig.on("127.0.0.1:9", 1), new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                () -> false, HaltPoint.NONE);

        assertThat(driver.tick().kind()).isEqualTo(Step.Kind.WAIT);
        assertThat(catalog.get("msg").message()).startsWith("waiting for a cdc-bridge").doesNotContain("sync stopped");

        // A worker stops at a poison record and says so (its own message write is what the driver used to overwrite).
        Seed.sql(db, "INSERT INTO shapeshift.sync_stream (migration, partition, owner, partitions, state, stop_offset, message) "
                        + "VALUES ('msg', 2, 'w1', 3, 'STOPPED_POISON', 17, 'undecodable change record')",
                "UPDATE shapeshift.migration SET message = 'sync stopped at a poison record' WHERE name = 'msg'");
        driver.tick();
        assertThat(catalog.get("msg").message()).startsWith("waiting for a cdc-bridge")
                .contains("sync stopped: partition 2 at offset 17 (STOPPED_POISON): undecodable change record");

        Seed.sql(db, "INSERT INTO shapeshift.bridge_capture (migration, source_table, columns, stopped_at, stop_reason) "
                + "VALUES ('msg', 'public.users', '[]', now(), 'sync stopped (SOURCE_CHANGED): source table public.users changed')");
        driver.tick();
        assertThat(catalog.get("msg").message()).contains("partition 2 at offset 17")
                .contains("sync stopped (SOURCE_CHANGED): source table public.users changed");

        Seed.sql(db, "UPDATE shapeshift.sync_stream SET state = 'RUNNING', stop_offset = NULL, message = NULL",
                "UPDATE shapeshift.bridge_capture SET stopped_at = NULL, stop_reason = NULL");
        driver.tick();
        assertThat(catalog.get("msg").message()).as("resolved: gone from the message").doesNotContain("sync stopped");
    }
}
