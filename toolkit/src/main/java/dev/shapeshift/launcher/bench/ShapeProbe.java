package dev.shapeshift.launcher.bench;

import dev.shapeshift.db.Database;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeyRange;
import dev.shapeshift.refresh.Refresher;
import dev.shapeshift.spec.Backfill;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.Source;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Target;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Statement shapes timed directly over JDBC, without Kafka, catalog or checkpoints: k connections
 * take key ranges of {@code chunkRows} ids in turn, one autocommitted transaction per range. It
 * separates the price of the statement (row lock, ON CONFLICT, the CTE shape, commit durability)
 * from the price of the orchestration around it. Shapes marked unsafe are references only.
 */
record ShapeProbe(Database db, BenchOptions o, ServerCpu cpu) {
    private static final Logger log = LoggerFactory.getLogger(ShapeProbe.class);

    /** One statement shape; {@code sql} has two parameters, (after, upTo], or null to use the Refresher. */
    record Shape(String name, String sql, boolean syncCommitOff) {
    }

    static List<Shape> shapes(Mode mode) {
        String s = BenchTables.SOURCE;
        String t = BenchTables.TARGET;
        String range = " WHERE id > ? AND id <= ?";
        if (mode == Mode.IN_PLACE) {
            return List.of(
                    new Shape("UPDATE range (reference)", "UPDATE " + s + " SET doubled = a * 2, label = upper(b)" + range, false),
                    new Shape("shapeshift statement", null, false),
                    new Shape("shapeshift statement, synchronous_commit=off", null, true));
        }
        String select = "SELECT id, a * 2, upper(b) FROM " + s + range;
        String locked = "WITH __src AS MATERIALIZED (SELECT id, a * 2 AS d, upper(b) AS l FROM " + s + range
                + " FOR KEY SHARE) INSERT INTO " + t + " (id, doubled, label) SELECT id, d, l FROM __src";
        return List.of(
                new Shape("INSERT range (unsafe reference)", "INSERT INTO " + t + " (id, doubled, label) " + select, false),
                new Shape("INSERT … ON CONFLICT DO NOTHING (no lock)", "INSERT INTO " + t + " (id, doubled, label) " + select
                        + " ON CONFLICT (id) DO NOTHING", false),
                new Shape("FOR KEY SHARE + INSERT (no ON CONFLICT)", locked, false),
                new Shape("FOR KEY SHARE + INSERT WHERE NOT EXISTS", locked
                        + " WHERE NOT EXISTS (SELECT 1 FROM " + t + " x WHERE x.id = __src.id)", false),
                new Shape("shapeshift statement (fenced: plain insert into an empty range, else insert of the missing keys)", null, false),
                new Shape("shapeshift statement, synchronous_commit=off", null, true));
    }

    /** The plans of the backfill statement's first sub-batch on a fresh table ({@link Explain}). */
    List<String> explain(Connection admin) throws SQLException {
        BenchTables.fresh(admin, o.rows(), o.mode());
        return Explain.backfillStatement(admin, resolve(admin), 0, o.chunkRows(), o.chunkRows());
    }

    List<Measurement> run(Connection admin) throws Exception {
        List<Measurement> out = new ArrayList<>();
        for (Shape shape : shapes(o.mode())) {
            for (int conns : o.shapeConns()) {
                out.add(runOne(admin, shape, conns));
            }
        }
        return out;
    }

    private Measurement runOne(Connection admin, Shape shape, int conns) throws Exception {
        BenchTables.fresh(admin, o.rows(), o.mode());
        Refresher refresher = new Refresher(resolve(admin));
        String table = BenchTables.written(o.mode());
        BenchTables.Sizes before = BenchTables.sizes(admin, table);
        String lsn = BenchTables.walLsn(admin);
        Latencies latencies = new Latencies();
        AtomicLong next = new AtomicLong(0);
        AtomicLong rows = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(conns);
        double db0 = cpu.serverSeconds();
        double jvm0 = ServerCpu.jvmSeconds();
        long t0 = System.nanoTime();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < conns; i++) {
                done.add(pool.submit(() -> {
                    try (Connection c = db.connect("bench")) {
                        while (true) {
                            long after = next.getAndAdd(o.chunkRows());
                            if (after >= o.rows()) {
                                return null;
                            }
                            long start = System.nanoTime();
                            rows.addAndGet(one(c, refresher, shape, after, after + o.chunkRows()));
                            latencies.add(System.nanoTime() - start);
                        }
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        long nanos = System.nanoTime() - t0;
        double dbCpu = cpu.serverSeconds() - db0;
        double jvmCpu = ServerCpu.jvmSeconds() - jvm0;
        long wal = BenchTables.walBytesSince(admin, lsn);
        BenchTables.Sizes after = BenchTables.sizes(admin, table);
        Measurement m = new Measurement(shape.name(), conns, rows.get(), nanos / 1e9, wal, before.heapBytes(),
                after.heapBytes(), before.indexBytes(), after.indexBytes(), latencies.count(), latencies.percentile(50),
                latencies.percentile(99), latencies.percentile(100), null, null, null, dbCpu, jvmCpu,
                null, null, null, null, null);
        log.info("bench shape name=\"{}\" connections={} rows={} seconds={} rows_per_s={} p50_ms={} wal_bytes={}",
                shape.name(), conns, rows.get(), String.format("%.2f", m.seconds()), Math.round(m.rowsPerSecond()),
                m.p50Ms(), wal);
        return m;
    }

    private static long one(Connection c, Refresher refresher, Shape shape, long after, long upTo) throws SQLException {
        c.setAutoCommit(false);
        try {
            if (shape.syncCommitOff()) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET LOCAL synchronous_commit = off");
                }
            }
            long n;
            if (shape.sql() == null) {
                n = refresher.copy(c, new KeyRange(Key.of(after), Key.of(upTo)), (int) (upTo - after)).read();
            } else {
                try (PreparedStatement ps = c.prepareStatement(shape.sql())) {
                    ps.setLong(1, after);
                    ps.setLong(2, upTo);
                    n = ps.executeUpdate();
                }
            }
            c.commit();
            return n;
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private ResolvedSpec resolve(Connection c) {
        MigrationSpec spec = new MigrationSpec("bench-shapes", new Source("public", BenchTables.SOURCE, List.of("id")),
                o.mode(), new Target("public", o.mode() == Mode.TABLE ? BenchTables.TARGET : BenchTables.SOURCE,
                BenchTables.COLUMNS), null, new Backfill(o.chunkRows(), o.batchRows(), null, null, null, null), null, null, null);
        return SpecValidator.resolveExpanded("bench", spec, c);
    }
}
