package dev.shapeshift.coordinator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.contract.AccessReport;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.db.QueryIds;
import dev.shapeshift.db.Sql;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.spec.Mode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The reconciler's reads of the old shape are Shapeshift's for the contract's access watch on a
 * role shared with the application, every time, not only when a sample of {@code pg_stat_activity}
 * happened to fall inside a pass (found in the full suite: after the read switch the coordinator's
 * own reconcile statements counted as foreign access for minutes and the contract never became
 * ready). The check is the database's: what {@code pg_stat_statements} counted and under which id.
 */
@ExtendWith(PostgresExtension.class)
class OwnStatementsIT {

    /** What EXPLAIN (VERBOSE) reports is the id pg_stat_statements counts the statement under, in a transaction too. */
    @Test
    void aLearnedQueryIdIsTheOnePgStatStatementsCounts(PostgresServer pg) throws Exception {
        try (ReconcileFixture f = counted(pg, Mode.TABLE, 50)) {
            String sql = "SELECT count(*) FROM src WHERE id > ? AND b <> ?";
            QueryIds own = new QueryIds();
            try (Connection c = f.db.connect("test")) {
                c.setAutoCommit(false);
                for (int i = 0; i < 3; i++) {
                    int from = i;
                    try (PreparedStatement ps = own.prepare(c, sql, b -> {
                        b.setLong(1, from);
                        b.setString(2, "x");
                    }); ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                    }
                }
                c.commit();
            }
            assertThat(own.ids()).as("one text, explained once").hasSize(1);
            long learned = own.ids().iterator().next();
            assertThat(counted(f, "SELECT count(*) FROM src WHERE id > $1 AND b <> $2"))
                    .as("pg_stat_statements' id and calls of the statement").containsExactly(learned + "/3");
            try (Connection c = f.db.connect("test")) {
                QueryIds another = new QueryIds();
                another.prepare(c, "SELECT count(*) FROM src WHERE id > ? AND a <> ?", b -> {
                    b.setLong(1, 1);
                    b.setInt(2, 2);
                }).close();
                assertThat(another.ids()).as("another text, another id").singleElement().isNotEqualTo(learned);
            }
        }
    }

    /**
     * One role for the application and Shapeshift (an idle application session of the same role
     * makes it shared), two migrations over the same table and old column; both reconcile, one
     * without declaring its reads (the negative control). No sample can see the reconcile's
     * statements: their sessions are closed before the watch looks.
     */
    @Test
    void theReconcilersReadsAreShapeshiftsOnARoleSharedWithTheApplication(PostgresServer pg) throws Exception {
        try (ReconcileFixture f = counted(pg, Mode.IN_PLACE, 600)) {
            String declared = "declares";
            String undeclared = "does-not-declare";
            for (String m : List.of(declared, undeclared)) {
                f.catalog.create(m, spec(m), "test", "test");
                Seed.sql(f.db, "UPDATE shapeshift.migration SET phase = 'reads-switched', phase_changed_at = now() WHERE name = '"
                        + m + "'");
            }
            AccessWatch watch = new AccessWatch(f.db);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            AccessReport withDeclaring;
            AccessReport without;
            try (Connection app = Seed.connectAs(f.db, pg.user(), pg.password(), "app"); Statement s = app.createStatement()) {
                s.executeQuery("SELECT 1").close();
                watch.evaluate(declared);
                watch.evaluate(undeclared);
                Reconciler.Options options = ReconcileFixture.options(200);
                assertThat(new Reconciler(f.catalog, declared, f.resolved, SyncProgress.NO_SYNC, registry, options)
                        .runOnce(() -> false).status()).isEqualTo("done");
                assertThat(new Reconciler(f.catalog, undeclared, f.resolved, SyncProgress.NO_SYNC, registry, options)
                        .withoutDeclaringOwnStatements().runOnce(() -> false).status()).isEqualTo("done");
                withDeclaring = watch.evaluate(declared);
                without = watch.evaluate(undeclared);
            }
            assertThat(withDeclaring.exclusion()).as("the role is shared").contains("also run other sessions");
            List<String> reads = new ArrayList<>();
            without.offenders().forEach(st -> reads.add(st.query()));
            assertThat(reads).as("negative control: undeclared, the reconcile's range reads count as foreign")
                    .hasSizeGreaterThanOrEqualTo(3).allMatch(q -> q.contains("upper") && !q.startsWith("EXPLAIN"));
            assertThat(withDeclaring.offenders()).as("declared, none of them is foreign").isEmpty();
            assertThat(withDeclaring.excluded()).extracting(AccessReport.Statement::query).containsAll(reads);
        }
    }

    private static String spec(String name) {
        return "{\"name\":\"" + name + "\",\"source\":{\"table\":\"src\"},\"mode\":\"in-place\",\"target\":{\"columns\":"
                + "[{\"name\":\"label\",\"type\":\"text\",\"transform\":\"upper(b)\"}]},"
                + "\"contract\":{\"dropColumns\":[\"b\"],\"quietPeriod\":\"1h\",\"retention\":\"1h\"}}";
    }

    /** A fixture of {@code rows} bigint-keyed rows in a database with pg_stat_statements. */
    private static ReconcileFixture counted(PostgresServer pg, Mode mode, int rows) throws SQLException {
        ReconcileFixture f = new ReconcileFixture(pg, KeyKind.BIGINT, mode);
        f.populate(rows);
        Seed.sql(f.db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        return f;
    }

    /** pg_stat_statements' "queryid/calls" of this exact text. */
    private static Set<String> counted(ReconcileFixture f, String text) throws SQLException {
        try (Connection c = f.db.connect("test")) {
            return new TreeSet<>(Sql.list(c, "SELECT queryid || '/' || calls FROM pg_stat_statements WHERE query = ? AND dbid = "
                    + "(SELECT oid FROM pg_database WHERE datname = current_database())", rs -> rs.getString(1), text));
        }
    }
}
