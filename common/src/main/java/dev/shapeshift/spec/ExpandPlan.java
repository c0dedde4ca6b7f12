package dev.shapeshift.spec;

import dev.shapeshift.sql.Ident;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The additive DDL that the {@code expanded} phase applies. Rendering only: nothing here talks to
 * a database. Identifiers are quoted; type names come from the spec (checked by
 * {@link SpecValidator} against {@code to_regtype}) or, for key columns, from the catalog.
 *
 * @param origin     where the statements come from
 * @param statements the statements, without trailing {@code ;}
 */
public record ExpandPlan(Origin origin, List<String> statements) {

    public enum Origin {
        /** Rendered from the target columns. */
        GENERATED,
        /** The spec's own {@code expand.ddl}. */
        CUSTOM,
        /** The new shape already exists in the database (generated DDL, every target column present). */
        ALREADY_APPLIED
    }

    public ExpandPlan {
        statements = List.copyOf(statements);
    }

    /** The plan for a spec checked against the database. */
    public static ExpandPlan of(ResolvedSpec resolved, boolean alreadyApplied) {
        MigrationSpec spec = resolved.spec();
        if (!spec.expand().ddl().isEmpty()) {
            return custom(spec);
        }
        if (spec.mode() == Mode.SINK) {
            return new ExpandPlan(Origin.GENERATED, List.of()); // nothing to add to the database
        }
        if (alreadyApplied) {
            return new ExpandPlan(Origin.ALREADY_APPLIED, List.of());
        }
        return spec.mode() == Mode.IN_PLACE ? addColumns(spec) : createTable(spec, resolved.key());
    }

    /**
     * The plan as far as it is known without a database: custom DDL, or generated DDL in in-place
     * mode. Table mode needs the key column types from the database, so it yields {@code null}.
     */
    public static ExpandPlan withoutDatabase(MigrationSpec spec) {
        if (!spec.expand().ddl().isEmpty()) {
            return custom(spec);
        }
        if (spec.mode() == Mode.SINK) {
            return new ExpandPlan(Origin.GENERATED, List.of());
        }
        return spec.mode() == Mode.IN_PLACE ? addColumns(spec) : null;
    }

    private static ExpandPlan custom(MigrationSpec spec) {
        List<String> out = new ArrayList<>();
        for (String ddl : spec.expand().ddl()) {
            String s = ddl.strip();
            out.add(s.endsWith(";") ? s.substring(0, s.length() - 1).strip() : s);
        }
        return new ExpandPlan(Origin.CUSTOM, out);
    }

    private static ExpandPlan addColumns(MigrationSpec spec) {
        String adds = spec.target().columns().stream()
                .map(c -> "  ADD COLUMN " + Ident.quote(c.name()) + " " + c.type().strip())
                .collect(Collectors.joining(",\n"));
        String sql = "ALTER TABLE " + Ident.qualified(spec.source().schema(), spec.source().table()) + "\n" + adds;
        List<String> out = new ArrayList<>(List.of(sql));
        out.addAll(Structure.atExpand(spec));
        return new ExpandPlan(Origin.GENERATED, out);
    }

    private static ExpandPlan createTable(MigrationSpec spec, List<Column> key) {
        List<String> lines = new ArrayList<>();
        for (Column k : key) {
            lines.add("  " + Ident.quote(k.name()) + " " + k.type() + " NOT NULL");
        }
        for (TargetColumn c : spec.target().columns()) {
            lines.add("  " + Ident.quote(c.name()) + " " + c.type().strip()
                    + (c.defaultValue() == null ? "" : " DEFAULT " + c.defaultValue().strip()));
        }
        lines.add("  PRIMARY KEY (" + Ident.columnList(key.stream().map(Column::name).toList(), null) + ")");
        String sql = "CREATE TABLE " + Ident.qualified(spec.targetSchema(), spec.targetTable()) + " (\n"
                + String.join(",\n", lines) + "\n)";
        List<String> out = new ArrayList<>(List.of(sql));
        out.addAll(Structure.atExpand(spec));
        return new ExpandPlan(Origin.GENERATED, out);
    }

    /** The statements as a script, one {@code ;}-terminated statement per paragraph. */
    public String script() {
        return statements.stream().map(s -> s + ";").collect(Collectors.joining("\n\n"));
    }
}
