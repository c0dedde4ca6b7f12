package dev.shapeshift.launcher.bench;

import dev.shapeshift.coordinator.plan.ChunkPlanner;
import dev.shapeshift.coordinator.plan.ChunkPlanner.SystemSampleSize;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code shapeshift bench plan}: how even the chunk planner's chunks are on tables stored in key
 * order (the case a page sample gets wrong), with the sample sized by pages (the planner's) against
 * the sample sized by rows (before), on the same tables in the same run. Two tables of N rows: a
 * composite key {@code (region, n)} loaded in key order, and the same rows loaded in random order;
 * every chunk's rows are counted over the key.
 */
public final class PlanBench {
    public record Options(long rows, int chunkRows, Path out, String command) {
    }

    record Case(String table, String layout, String sampleSizedBy, String method, int chunks, long min, long median,
                long max, long outsideTwiceTarget, double planSeconds) {
    }

    private PlanBench() {
    }

    public static Path run(Options o, PrintStream out) throws Exception {
        OffsetDateTime started = OffsetDateTime.now();
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.defaults())) {
            Database db = new Database(pg.jdbcUrl(pg.createDatabase("shapeshift_bench_plan")), pg.user(), pg.password());
            Map<String, String> machine;
            List<Case> cases = new ArrayList<>();
            try (Connection c = db.connect("bench")) {
                machine = Machine.describe(c);
                for (String layout : List.of("key order", "random order")) {
                    String table = layout.startsWith("key") ? "plan_clustered" : "plan_random";
                    load(c, table, o.rows(), layout.startsWith("key") ? "1, 2" : "random()");
                    out.printf(Locale.ROOT, "loaded %,d rows in %s (%s)%n", o.rows(), table, layout);
                    ResolvedSpec spec = spec(c, table, o.chunkRows());
                    for (SystemSampleSize sizing : SystemSampleSize.values()) {
                        ChunkPlanner.Preview p = ChunkPlanner.preview(c, spec, sizing);
                        Case k = new Case(table, layout, sizing.name().toLowerCase(Locale.ROOT), p.method(),
                                p.chunkRowCounts().size(), p.min(), p.median(), p.max(), p.outsideTwiceTarget(), p.planSeconds());
                        out.printf(Locale.ROOT, "%s, sample sized by %s: %d chunks, min / median / max %,d / %,d / %,d, "
                                + "%d outside half..twice the target, planned in %.2f s%n", layout, k.sampleSizedBy(),
                                k.chunks(), k.min(), k.median(), k.max(), k.outsideTwiceTarget(), k.planSeconds());
                        cases.add(k);
                    }
                }
            }
            Path md = write(o, machine, started, cases);
            out.println("wrote " + md);
            return md;
        }
    }

    private static void load(Connection c, String table, long rows, String order) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + table + " (region integer, n integer, payload text, PRIMARY KEY (region, n))");
            s.execute("INSERT INTO " + table + " SELECT i / 10000, i % 10000, md5(i::text) FROM generate_series(0, "
                    + (rows - 1) + ") i ORDER BY " + order);
            s.execute("VACUUM ANALYZE " + table);
        }
    }

    private static ResolvedSpec spec(Connection c, String table, int chunkRows) {
        String yaml = "name: bench-plan-" + table + "\nsource:\n  table: " + table + "\n  key: [region, n]\n"
                + "target:\n  columns:\n    - name: p2\n      type: text\n      transform: upper(payload)\n"
                + "backfill:\n  chunkRows: " + chunkRows + "\n";
        MigrationSpec spec = new SpecReader().read(table + ".yaml", yaml);
        return SpecValidator.resolve(table + ".yaml", spec, c);
    }

    private static Path write(Options o, Map<String, String> machine, OffsetDateTime started, List<Case> cases)
            throws IOException {
        String base = LocalDate.now() + "-plan-" + o.rows();
        StringBuilder b = new StringBuilder();
        b.append("# Chunk plan benchmark: chunk sizes on ").append(String.format(Locale.ROOT, "%,d", o.rows()))
                .append(" rows, target ").append(String.format(Locale.ROOT, "%,d", o.chunkRows())).append(" rows per chunk\n\n");
        ResultFiles.header(b, started, o.command(), machine);
        b.append("- tables: `(region integer, n integer, payload text, PRIMARY KEY (region, n))`, the same rows loaded in "
                + "key order and in random order, `VACUUM ANALYZE`d; a composite key, so the planner samples "
                + "(`TABLESAMPLE SYSTEM` from 1M rows, `BERNOULLI` below)\n");
        b.append("- every chunk's rows counted over the key after planning (`ChunkPlanner.preview`, as `shapeshift plan "
                + "--chunks`); the last chunk may be short and is not counted as outside when it is\n\n");
        b.append("| layout | sample sized by | method | chunks | min | median | max | max ÷ target | outside ½–2× target | "
                + "planning s |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for (Case c : cases) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %,d | %,d | %,d | %.2f | %d | %.2f |%n", c.layout(),
                    c.sampleSizedBy(), c.method(), c.chunks(), c.min(), c.median(), c.max(),
                    (double) c.max() / o.chunkRows(), c.outsideTwiceTarget(), c.planSeconds()));
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("rows", o.rows());
        fields.put("chunkRows", o.chunkRows());
        fields.put("cases", cases);
        return ResultFiles.write(o.out(), base, b.toString(), started, o.command(), machine, fields);
    }
}
