package dev.shapeshift.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Only the owner writes a stream; positions only move forward; a new owner starts catching up. */
@ExtendWith(PostgresExtension.class)
class SyncStreamStoreIT {

    @Test
    void aWorkerThatLostThePartitionCannotWriteItAndPositionsNeverMoveBack(PostgresServer pg) {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase("streams")), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        Catalog catalog = new Catalog(db, "test");
        catalog.create("m", "{}", "m.yaml", "test");
        SyncStreamStore store = new SyncStreamStore(catalog);
        Instant t1 = Instant.parse("2026-01-01T12:00:00Z");

        store.claim("m", 0, 2, "w1", null);
        assertThat(store.list("m").get(0).state()).isEqualTo(StreamState.CATCHING_UP);
        assertThat(store.progress("m", 0, "w1", 41, 0x2000, t1, t1)).isTrue();
        SyncStream s = store.list("m").get(0);
        assertThat(s.state()).as("first progress").isEqualTo(StreamState.RUNNING);
        assertThat(s.appliedOffset()).isEqualTo(41);
        assertThat(s.appliedLsn()).isEqualTo("0/2000");

        // a replay (after a rebalance, a bridge restart) never moves the position back
        assertThat(store.progress("m", 0, "w1", 30, 0x1000, t1.minusSeconds(5), t1)).isTrue();
        assertThat(store.list("m").get(0).appliedLsn()).isEqualTo("0/2000");
        assertThat(store.list("m").get(0).appliedOffset()).isEqualTo(41);

        assertThat(store.state("m", 0, "w1", StreamState.STOPPED_POISON, 42L, "stopped at 0:42")).isTrue();
        assertThat(store.list("m").get(0).stopPosition()).isEqualTo("0:42");

        // w2 takes the partition over: it starts catching up, and w1 (a zombie) can no longer write
        store.claim("m", 0, 2, "w2", null);
        assertThat(store.progress("m", 0, "w1", 99, 0x9000, t1, t1)).isFalse();
        assertThat(store.state("m", 0, "w1", StreamState.RUNNING, null, null)).isFalse();
        SyncStream taken = store.list("m").get(0);
        assertThat(taken.owner()).isEqualTo("w2");
        assertThat(taken.state()).isEqualTo(StreamState.CATCHING_UP);
        assertThat(taken.stopOffset()).isNull();
        assertThat(taken.appliedOffset()).as("kept: what was applied stays applied").isEqualTo(41);
    }
}
