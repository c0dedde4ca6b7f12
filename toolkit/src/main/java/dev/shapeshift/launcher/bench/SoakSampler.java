package dev.shapeshift.launcher.bench;

import static dev.shapeshift.launcher.bench.SoakBench.MIGRATION;

import dev.shapeshift.db.Database;
import dev.shapeshift.launcher.bench.SoakBench.Sample;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The samples of {@link SoakBench}, taken every sample period on a thread of their own: each role
 * JVM's resident memory, file descriptors and threads, the slot's retained WAL, the database's
 * backends, the rows pgbench added and the migration's phase and chunks.
 */
final class SoakSampler {
    private static final Logger log = LoggerFactory.getLogger(SoakBench.class);

    private final DoubleSupplier minute;
    /** Every sample so far (the sampler thread adds, the report reads after it stopped). */
    final List<Sample> samples = java.util.Collections.synchronizedList(new ArrayList<>());

    SoakSampler(DoubleSupplier minute) {
        this.minute = minute;
    }

    /** Reads every role's /proc figures, the slot, the backends, the load's rows and the phase, now. */
    void sample(Database db, RoleJvms roles) {
        Map<String, RoleJvms.Usage> usage = new LinkedHashMap<>();
        Map<String, Integer> incarnations = new LinkedHashMap<>();
        roles.live().forEach((role, i) -> {
            usage.put(role, i.process().isAlive() ? RoleJvms.usage(i.process().pid()) : new RoleJvms.Usage(-1, -1, -1));
            incarnations.put(role, i.number());
        });
        try (Connection c = db.connect("soak-sampler"); Statement s = c.createStatement()) {
            long slot = SoakBench.one(s, "SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)), 0)::bigint "
                    + "FROM pg_replication_slots WHERE database = current_database()");
            long backends = SoakBench.one(s, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()");
            long history = SoakBench.one(s, "SELECT count(*) FROM pgbench_history");
            String phase = null;
            long done = 0;
            long total = 0;
            try (ResultSet rs = s.executeQuery("SELECT m.phase, (SELECT count(*) FILTER (WHERE status = 'done') FROM "
                    + "shapeshift.chunk WHERE migration = m.name), (SELECT count(*) FROM shapeshift.chunk WHERE migration = m.name) "
                    + "FROM shapeshift.migration m WHERE m.name = '" + MIGRATION + "'")) {
                if (rs.next()) {
                    phase = rs.getString(1);
                    done = rs.getLong(2);
                    total = rs.getLong(3);
                }
            }
            samples.add(new Sample(minute.getAsDouble(), usage, incarnations, slot, backends, history, phase, done, total));
        } catch (SQLException e) {
            log.warn("soak: sample failed: {}", e.getMessage());
        }
    }
}
