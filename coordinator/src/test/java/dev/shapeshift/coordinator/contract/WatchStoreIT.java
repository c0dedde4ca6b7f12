package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.phase.Phase;
import java.sql.Connection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The access watch's stored counters read back as stored: a table-writes counter never taken (no
 * {@code pg_stat_user_tables} row at that look) stays unknown instead of becoming 0, which the next
 * look would take for writes to the old table ({@code WatchStore.tableCounters}). Negative control,
 * run by hand (2026-12-07): with the null test of the read on the column before it (as it was), the
 * unknown counter came back as 0.
 */
@ExtendWith(PostgresExtension.class)
class WatchStoreIT {
    @Test
    void anUnknownTableWritesCounterStaysUnknown(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "watch_store");
        Catalog catalog = new Catalog(db, "test");
        AwaitingContractIT.register(catalog, "unknown", "\"quietPeriod\":\"1h\"", Phase.READS_SWITCHED);
        AwaitingContractIT.register(catalog, "known", "\"quietPeriod\":\"1h\"", Phase.READS_SWITCHED);
        Seed.sql(db, "INSERT INTO shapeshift.contract_watch (migration, baseline_at, evaluated_at, quiet_since, dealloc, "
                        + "dealloc_now, table_writes) VALUES ('unknown', now(), now(), now(), 3, 3, NULL)",
                "INSERT INTO shapeshift.contract_watch (migration, baseline_at, evaluated_at, quiet_since, dealloc, "
                        + "dealloc_now, table_writes) VALUES ('known', now(), now(), now(), 3, 3, 42)");
        try (Connection c = db.connect("test")) {
            c.setAutoCommit(false);
            assertThat(WatchStore.read(c, "unknown").tableWrites()).as("not taken").isNull();
            assertThat(WatchStore.read(c, "unknown").dealloc()).isEqualTo(3);
            assertThat(WatchStore.read(c, "known").tableWrites()).isEqualTo(42L);
            c.rollback();
        }
    }
}
