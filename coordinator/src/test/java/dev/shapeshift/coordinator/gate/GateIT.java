package dev.shapeshift.coordinator.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FlagStore;
import dev.shapeshift.catalog.SyncStreamStore;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole read switch against real PostgreSQL: a real logical slot that a stand-in bridge keeps
 * advancing, verification on evidence, reads switched after clean-for with the flag flipped in the
 * same transaction, and flipped back.
 */
@ExtendWith(PostgresExtension.class)
class GateIT {
    @Test
    void readSwitchOnEvidenceAndBack(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "gate");
        Seed.migration(db, "users", "backfilled", "1s");
        String slot = "ss_gate_" + Long.toHexString(System.nanoTime());
        Seed.sql(db, "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        Catalog catalog = new Catalog(db, "test");
        Transitions transitions = new Transitions(catalog);
        FlagStore flags = new FlagStore(catalog);
        ScheduledExecutorService bridge = Executors.newSingleThreadScheduledExecutor();
        try {
            // Not yet: a chunk is running, the run started before the backfill finished, drift is open, no slot.
            assertThatThrownBy(() -> transitions.advance("users", Phase.VERIFIED, "test", "try"))
                    .isInstanceOfSatisfying(GateClosedException.class, closed -> {
                        assertThat(closed.code()).isEqualTo(ErrorCode.GATE_CLOSED);
                        assertThat(closed.report().failed()).extracting(Check::name)
                                .containsExactly("backfill-done", "sync-streams", "sync-lag", "reconciled", "drift-open");
                    });

            catalog.recordSlot("users", slot, "0/0");
            Seed.sql(db, "UPDATE shapeshift.chunk SET status = 'done', finished_at = now() - interval '1 minute'",
                    "UPDATE shapeshift.drift SET resolved_at = now()",
                    "INSERT INTO shapeshift.reconcile_run (migration, status, started_at, finished_at, rows_checked) "
                            + "VALUES ('users', 'done', now() - interval '30 seconds', now(), 4000)");
            SyncStreamStore streams = new SyncStreamStore(catalog);
            streams.claim("users", 0, 2, "w0", null);
            streams.claim("users", 1, 2, "w1", null);
            bridge.scheduleWithFixedDelay(() -> advance(db, slot, streams), 0, 50, TimeUnit.MILLISECONDS);

            assertThat(transitions.advance("users", Phase.VERIFIED, "test", "evidence complete").phase())
                    .isEqualTo(Phase.VERIFIED);
            assertThatThrownBy(() -> transitions.advance("users", Phase.READS_SWITCHED, "test", "too soon"))
                    .isInstanceOf(GateClosedException.class).hasMessageContaining("clean-for")
                    .hasMessageContaining("no full reconcile run started since the migration became verified");
            Seed.sql(db, "INSERT INTO shapeshift.reconcile_run (migration, status, started_at, finished_at, rows_checked) "
                    + "VALUES ('users', 'done', now(), now(), 4000)");
            Thread.sleep(1100);
            assertThat(transitions.advance("users", Phase.READS_SWITCHED, "test", "clean for 1s").phase())
                    .isEqualTo(Phase.READS_SWITCHED);
            FlagStore.Flag on = flags.get("users.read-new");
            assertThat(on.value()).isTrue();

            assertThat(transitions.advance("users", Phase.VERIFIED, "test", "p99 up, flip back").phase())
                    .isEqualTo(Phase.VERIFIED);
            FlagStore.Flag off = flags.get("users.read-new");
            assertThat(off.value()).isFalse();
            assertThat(off.version()).isEqualTo(on.version() + 1);

            assertThat(transitions.rollback("users", "test", "abandon").phase()).isEqualTo(Phase.ROLLED_BACK);
            assertThat(catalog.get("users").message()).isEqualTo("abandon");
            assertThatThrownBy(() -> transitions.advance("users", Phase.SYNCING, "test", "again"))
                    .isInstanceOf(ShapeshiftException.class).hasMessageContaining("cannot move from rolled-back");
        } finally {
            bridge.shutdownNow();
            bridge.awaitTermination(5, TimeUnit.SECONDS);
            Seed.sql(db, "SELECT pg_drop_replication_slot('" + slot + "')");
        }
    }

    /**
     * What the bridge and two workers do: confirm everything written so far, and record in each
     * stream an applied position at the current WAL position (the probe's heartbeat included).
     */
    private static void advance(Database db, String slot, SyncStreamStore streams) {
        try (Connection c = db.connect("test");
             PreparedStatement ps = c.prepareStatement("SELECT pg_replication_slot_advance(?, pg_current_wal_lsn()), "
                     + "pg_current_wal_lsn() - '0/0'::pg_lsn")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long lsn = rs.getLong(2);
                for (int p = 0; p < 2; p++) {
                    streams.progress("users", p, "w" + p, 10, lsn, Instant.now(), Instant.now());
                }
            }
        } catch (Exception e) {
            // the next tick retries
        }
    }
}
