package dev.shapeshift.worker.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.OwnQueries;
import dev.shapeshift.db.Sql;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.Refresher;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.sinks.MemorySink;
import dev.shapeshift.sinks.SinkApplier;
import dev.shapeshift.sinks.SinkRefresh;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.worker.CatalogSpec;
import dev.shapeshift.worker.sync.SyncFixture.Migration;
import dev.shapeshift.worker.sync.SyncFixture.Shape;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The sync's refreshes touch the old shape after the read switch too, in place: the worker declares
 * their query ids to the contract's access watch, so on a role shared with the application they
 * are Shapeshift's without a lucky sample. The check is the database's own count: every statement
 * {@code pg_stat_statements} counted on the source table in this database, except the test's own,
 * is declared as seen in Shapeshift's sessions, under exactly that id.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SyncDeclaresItsStatementsIT {

    @Test
    void theSyncsRefreshStatementsAreDeclaredUnderThePgStatStatementsIds(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sync_declares")) {
            Migration m = f.migration("declares", KeyKind.BIGINT, Mode.IN_PLACE, Shape.STANDARD);
            ResolvedSpec resolved = rows(f, m);
            syncAndCheck(f, m, new SliceRefresher(new Refresher(resolved), new WorkerTransactions(WorkerTransactions.Policy.DEFAULT),
                    resolved.key(), WorkerTransactions.echoMark(resolved)));
        }
    }

    /** Sink mode: the sync's read of the source (the transforms under a share lock) is declared too. */
    @Test
    void theSinkSyncsReadOfTheSourceIsDeclared(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (SyncFixture f = new SyncFixture(pg, kafka, "sync_declares_sink")) {
            MemorySink.store("sink-declares");
            Migration m = f.sinkMigration("declaressink", KeyKind.BIGINT, Shape.STANDARD, Map.of("store", "sink-declares"));
            ResolvedSpec resolved = rows(f, m);
            try (SinkSlices slices = new SinkSlices(new SinkRefresh(resolved),
                    SinkApplier.forMigration(resolved, SinkApplier.Listener.NONE, () -> false),
                    new WorkerTransactions(WorkerTransactions.Policy.DEFAULT), new OwnQueries(m.name()))) {
                syncAndCheck(f, m, slices);
            }
        }
    }

    /** 20 source rows in a database with pg_stat_statements; the migration's resolved spec. */
    private static ResolvedSpec rows(SyncFixture f, Migration m) {
        f.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", SyncFixture.insertRows(m, 20));
        return CatalogSpec.resolve(f.db, m.name());
    }

    /**
     * Syncs three batches of five keys, then checks that every statement pg_stat_statements counted
     * on the source table (not the test's own) is declared under that id.
     */
    private static void syncAndCheck(SyncFixture f, Migration m, SliceApplier slices) throws Exception {
        try (Connection c = f.db.connect("worker")) {
            for (int batch = 0; batch < 3; batch++) {
                List<Key> keys = IntStream.rangeClosed(1 + batch * 5, 5 + batch * 5)
                        .mapToObj(i -> new Key(List.of(Integer.toString(i)))).toList();
                assertThat(slices.refresh(c, keys).written()).as("batch %d applied", batch).isPositive();
            }
        }
        Set<Long> counted = ids(f, "SELECT queryid FROM pg_stat_statements s WHERE s.dbid = (SELECT oid FROM pg_database "
                + "WHERE datname = current_database()) AND s.query LIKE '%" + m.source() + "%' AND s.calls > 0 "
                + "AND s.query NOT LIKE 'EXPLAIN%' AND s.query NOT LIKE 'INSERT INTO " + m.source() + "%' "
                + "AND s.query NOT LIKE 'CREATE%' AND s.query NOT LIKE 'ALTER%'");
        assertThat(counted).as("the sync ran and was counted").isNotEmpty();
        Set<Long> declared = ids(f, "SELECT id FROM shapeshift.contract_sighting WHERE migration = '" + m.name()
                + "' AND kind = 'query' AND by_shapeshift AND NOT by_other");
        assertThat(declared).as("every statement of the sync declared, under pg_stat_statements' id").containsAll(counted);
    }

    private static Set<Long> ids(SyncFixture f, String sql) throws Exception {
        try (Connection c = f.db.connect("test")) {
            return new TreeSet<>(Sql.list(c, sql, rs -> rs.getLong(1)));
        }
    }
}
