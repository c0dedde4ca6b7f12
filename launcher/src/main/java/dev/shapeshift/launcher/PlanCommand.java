package dev.shapeshift.launcher;

import dev.shapeshift.json.JsonMaps;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.shapeshift.coordinator.plan.ChunkPlanner;
import dev.shapeshift.spec.ExpandPlan;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Validation;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code shapeshift plan SPEC}: what a migration would do — phases, expand DDL, chunk estimate. Changes nothing. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Show the phases, the expand DDL and the estimated backfill chunks of a spec. Changes nothing.")
public final class PlanCommand extends SpecCommand {
    /** The spec's phases in its order: with {@code writes.switch}, dual-writes and writes-switched in {@code writes.order}. */
    static List<String> phases(MigrationSpec spec) {
        return dev.shapeshift.phase.PhasePlan.of(spec.writes()).order().stream().map(dev.shapeshift.phase.Phase::label).toList();
    }

    @Option(names = "--chunks", description = "With a database: run the coordinator's chunk planner now (nothing stored) "
            + "and count the rows of every planned chunk — one index range scan per chunk, so the whole key once.")
    boolean chunks;

    @Override
    public Integer call() throws SQLException {
        MigrationSpec spec = new SpecReader().read(specFile);
        String origin = ValidateCommand.origin(specFile);
        Validation v;
        RowEstimate estimate = new RowEstimate(-1, "unknown (no database connection given)");
        ChunkPlanner.Preview preview = null;
        try (ConnectionOptions.Source source = connection.open()) {
            if (chunks && source == null) {
                throw new CommandLine.ParameterException(command.commandLine(),
                        "--chunks plans against the database: give --jdbc-url (or --embedded)");
            }
            v = source == null ? SpecValidator.checkWithoutDatabase(spec) : SpecValidator.check(spec, source.connection());
            if (source != null && v.valid()) {
                estimate = RowEstimate.of(source.connection(), v.resolved());
                if (chunks) {
                    preview = ChunkPlanner.preview(source.connection(), v.resolved(), ChunkPlanner.SystemSampleSize.PAGES);
                }
            }
        }
        if (!v.valid()) {
            throw SpecValidator.invalid(origin, v.problems());
        }
        PrintWriter out = command.commandLine().getOut();
        out.println(output.json() ? OutputFormat.json(json(origin, v, estimate, preview)) : text(origin, v, estimate, preview));
        out.flush();
        return 0;
    }

    private static Map<String, Object> json(String origin, Validation v, RowEstimate e, ChunkPlanner.Preview p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("spec", origin);
        m.put("migration", v.spec().name());
        m.put("checks", v.live() ? "static+live" : "static");
        m.put("phases", phases(v.spec()));
        m.put("expand", v.expand() == null ? null : JsonMaps.of(v.expand()));
        Map<String, Object> chunks = new LinkedHashMap<>();
        chunks.put("estimate", true);
        chunks.put("rows", e.rows() < 0 ? null : e.rows());
        chunks.put("rowsFrom", e.method());
        chunks.put("chunkRows", v.spec().backfill().chunkRows());
        chunks.put("chunks", e.rows() < 0 ? null : e.chunks(v.spec().backfill().chunkRows()));
        if (p != null) {
            chunks.put("planned", new PlannedJson(p.method(), p.chunkRowCounts().size(), p.chunkRowCounts(), p.min(),
                    p.median(), p.max(), p.outsideTwiceTarget(), p.planSeconds()));
        }
        m.put("backfill", chunks);
        return m;
    }

    /** {@code backfill.planned} of the JSON output: the chunk planner's preview, with its chunk size figures. */
    @JsonPropertyOrder({"method", "chunks", "rowsPerChunk", "min", "median", "max", "outsideTwiceTarget", "planSeconds"})
    record PlannedJson(String method, int chunks, List<Long> rowsPerChunk, long min, long median, long max,
                       long outsideTwiceTarget, double planSeconds) {
    }

    private static String text(String origin, Validation v, RowEstimate e, ChunkPlanner.Preview p) {
        MigrationSpec s = v.spec();
        StringBuilder b = new StringBuilder();
        b.append("Migration ").append(s.name()).append(" (").append(origin).append(", ").append(s.mode().label())
                .append(" mode): ").append(s.source().schema()).append('.').append(s.source().table())
                .append(" → ").append(s.targetSchema()).append('.').append(s.targetTable()).append('\n');
        b.append("Checks: ").append(v.live() ? "static and live" : "static only (no database connection given)").append("\n\n");
        b.append("Phases: ").append(String.join(" → ", phases(s))).append("\n\n");
        b.append("Expand DDL").append(expandNote(v.expand())).append(":\n");
        if (v.expand() != null) {
            b.append(v.expand().script()).append('\n');
        }
        int chunkRows = s.backfill().chunkRows();
        b.append("\nBackfill (ESTIMATE; the coordinator's planner decides the real chunks): ");
        if (e.rows() < 0) {
            b.append("rows ").append(e.method()).append(", ").append(chunkRows).append(" rows per chunk");
        } else {
            b.append("~").append(e.rows()).append(" rows (").append(e.method()).append(") / ").append(chunkRows)
                    .append(" rows per chunk ≈ ").append(e.chunks(chunkRows)).append(" chunks");
        }
        if (p != null) {
            b.append(String.format(Locale.ROOT, "%nChunks planned now (method %s, %.1f s; not stored — the coordinator plans "
                    + "again when it runs the migration): %d chunks, rows per chunk min / median / max %,d / %,d / %,d "
                    + "(target %,d), %d outside half to twice the target (the last chunk may be short)",
                    p.method(), p.planSeconds(), p.chunkRowCounts().size(), p.min(), p.median(), p.max(), p.chunkRows(),
                    p.outsideTwiceTarget()));
        }
        b.append(p != null && p.analyzed()
                ? "\n\nNothing was changed but the table's statistics: it had never been analyzed, and the planner ANALYZEd its key columns."
                : "\n\nNothing was changed.");
        return b.toString();
    }

    private static String expandNote(ExpandPlan plan) {
        if (plan == null) {
            return " (needs a database connection: table mode copies the key column types from the source)";
        }
        return switch (plan.origin()) {
            case GENERATED -> " (generated)";
            case CUSTOM -> " (from expand.ddl)";
            case ALREADY_APPLIED -> " (none: every target column already exists)";
        };
    }
}
