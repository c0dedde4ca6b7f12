package dev.shapeshift.spec;

import dev.shapeshift.spec.SourceCatalog.CatalogColumn;
import dev.shapeshift.spec.SourceCatalog.UniqueKey;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.postgresql.util.PSQLException;

/**
 * The checks of the staged structure ({@code target.indexes}, {@code target.checks},
 * {@code target.columns[].notNull / unique / references / default}): on its own, and against the
 * live database — columns that exist, expressions that PostgreSQL parses over the new shape's
 * columns, a foreign key to a table with a primary key or unique index on exactly the referenced
 * column.
 */
final class StructureChecks {
    private StructureChecks() {
    }

    static void statics(MigrationSpec spec, Consumer<SpecProblem> add) {
        Target target = spec.target();
        List<TargetColumn> cols = target.columns();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < cols.size(); i++) {
            TargetColumn c = cols.get(i);
            if (c == null) {
                continue;
            }
            names.add(c.name());
            String p = "target.columns[" + i + "]";
            if (c.defaultValue() != null) {
                expression(p + ".default", c.defaultValue(), add);
            }
            if (c.notNull() && spec.mode() == Mode.IN_PLACE && c.defaultValue() == null) {
                add.accept(new SpecProblem(p + ".notNull", "in in-place mode the application keeps inserting rows "
                        + "without " + c.name() + " until it writes the new shape; once NOT NULL is enforced those "
                        + "inserts would fail", "give " + p + ".default (e.g. 'default: false'); the sync then "
                        + "overwrites it with the transform's value"));
            }
            TargetColumn.References r = c.references();
            if (r != null) {
                if (r.table() == null || r.table().isBlank()) {
                    add.accept(new SpecProblem(p + ".references.table", "missing", "name the referenced table"));
                }
                if (r.column() == null || r.column().isBlank()) {
                    add.accept(new SpecProblem(p + ".references.column", "missing",
                            "name the referenced column (with a primary key or unique index on exactly it)"));
                }
            }
        }
        Set<String> known = new HashSet<>(names);
        if (spec.source() != null) {
            known.addAll(spec.source().key());
        }
        Set<String> itemNames = new HashSet<>();
        List<Target.Index> indexes = target.indexes();
        for (int i = 0; i < indexes.size(); i++) {
            Target.Index x = indexes.get(i);
            String p = "target.indexes[" + i + "]";
            if (x == null) {
                add.accept(new SpecProblem(p, "empty entry", "remove it or give it columns"));
                continue;
            }
            if (x.columns().isEmpty()) {
                add.accept(new SpecProblem(p + ".columns", "no columns", "list the indexed columns, e.g. [translate_key]"));
            }
            if (spec.mode() == Mode.TABLE && spec.source() != null && !spec.source().key().isEmpty()) {
                for (int k = 0; k < x.columns().size(); k++) {
                    if (!known.contains(x.columns().get(k))) {
                        add.accept(new SpecProblem(p + ".columns[" + k + "]", "column \"" + x.columns().get(k)
                                + "\" is not a column of the target table" + ClosestMatch.hint(x.columns().get(k), known),
                                "name a target column or a key column"));
                    }
                }
            }
            if (x.where() != null) {
                expression(p + ".where", x.where(), add);
            }
        }
        List<Target.Check> checks = target.checks();
        for (int i = 0; i < checks.size(); i++) {
            Target.Check ch = checks.get(i);
            String p = "target.checks[" + i + "]";
            if (ch == null || ch.expression() == null || ch.expression().isBlank()) {
                add.accept(new SpecProblem(p + ".expression", "missing", "write a boolean SQL expression over target "
                        + "columns, e.g. 'price >= 0'"));
            } else {
                expression(p + ".expression", ch.expression(), add);
            }
        }
        for (Structure.Item item : Structure.items(spec)) {
            if (!itemNames.add(item.name())) {
                add.accept(new SpecProblem("target", "two staged items are named " + item.name(),
                        "give target.indexes[].name / target.checks[].name distinct names"));
            }
        }
    }

    private static void expression(String path, String expr, Consumer<SpecProblem> add) {
        SqlScanner.expression(expr).problem().ifPresent(what -> add.accept(new SpecProblem(path, "contains " + what,
                "write a single SQL expression")));
    }

    /**
     * Against the database: index columns exist in the target table (in place: the source's columns
     * and the new ones), expressions parse over the new shape's columns, a foreign key's table and
     * unique key exist.
     */
    static void live(MigrationSpec spec, Connection c, SourceCatalog catalog, List<CatalogColumn> sourceColumns,
                     List<Column> key, java.util.function.Predicate<String> typeExists, Consumer<SpecProblem> add)
            throws SQLException {
        Target target = spec.target();
        List<TargetColumn> cols = target.columns();
        Set<String> targetNames = new LinkedHashSet<>();
        cols.stream().filter(x -> x != null && x.name() != null).forEach(x -> targetNames.add(x.name()));
        List<String> relation = new ArrayList<>();
        if (spec.mode() == Mode.IN_PLACE) {
            sourceColumns.stream().filter(sc -> !targetNames.contains(sc.name()))
                    .forEach(sc -> relation.add("s." + Ident.quote(sc.name())));
        } else {
            key.forEach(k -> relation.add("s." + Ident.quote(k.name())));
        }
        Set<String> columns = new LinkedHashSet<>();
        relation.forEach(r -> columns.add(unquote(r.substring(2))));
        columns.addAll(targetNames);
        boolean typed = true;
        for (TargetColumn tc : cols) {
            if (tc == null || tc.name() == null) {
                continue;
            }
            if (tc.type() == null || !typeExists.test(tc.type())) {
                typed = false;
            } else {
                relation.add("NULL::" + tc.type().trim() + " AS " + Ident.quote(tc.name()));
            }
        }
        List<Target.Index> indexes = target.indexes();
        for (int i = 0; i < indexes.size(); i++) {
            Target.Index x = indexes.get(i);
            if (x == null) {
                continue;
            }
            for (int k = 0; k < x.columns().size(); k++) {
                if (!columns.contains(x.columns().get(k))) {
                    add.accept(new SpecProblem("target.indexes[" + i + "].columns[" + k + "]", "column \""
                            + x.columns().get(k) + "\" is not a column of the target table "
                            + spec.targetSchema() + "." + spec.targetTable() + ClosestMatch.hint(x.columns().get(k), columns),
                            "name one of: " + String.join(", ", columns)));
                }
            }
        }
        String from = "(SELECT " + String.join(", ", relation) + " FROM "
                + Ident.qualified(spec.source().schema(), spec.source().table()) + " s) t";
        if (typed) {
            for (int i = 0; i < indexes.size(); i++) {
                Target.Index x = indexes.get(i);
                if (x != null && x.where() != null && SqlScanner.expression(x.where()).problem().isEmpty()) {
                    parse(c, "target.indexes[" + i + "].where", "SELECT (\n" + x.where() + "\n)::boolean FROM " + from
                            + " WHERE false", add);
                }
            }
            for (int i = 0; i < target.checks().size(); i++) {
                Target.Check ch = target.checks().get(i);
                if (ch != null && ch.expression() != null && SqlScanner.expression(ch.expression()).problem().isEmpty()) {
                    parse(c, "target.checks[" + i + "].expression", "SELECT (\n" + ch.expression() + "\n)::boolean FROM "
                            + from + " WHERE false", add);
                }
            }
        }
        for (int i = 0; i < cols.size(); i++) {
            TargetColumn tc = cols.get(i);
            if (tc == null) {
                continue;
            }
            String p = "target.columns[" + i + "]";
            if (tc.defaultValue() != null && SqlScanner.expression(tc.defaultValue()).problem().isEmpty()
                    && tc.type() != null && typeExists.test(tc.type())) {
                parse(c, p + ".default", "SELECT (\n" + tc.defaultValue() + "\n)::" + tc.type().trim(), add);
            }
            TargetColumn.References r = tc.references();
            if (r != null && r.table() != null && r.column() != null) {
                references(spec, catalog, p + ".references", r, add);
            }
        }
    }

    private static void references(MigrationSpec spec, SourceCatalog catalog, String p, TargetColumn.References r,
                                   Consumer<SpecProblem> add) throws SQLException {
        String schema = r.schema() != null ? r.schema() : spec.targetSchema();
        if (!catalog.schemaExists(schema) || !catalog.tables(schema).contains(r.table())) {
            add.accept(new SpecProblem(p + ".table", "table " + schema + "." + r.table() + " does not exist"
                    + (catalog.schemaExists(schema) ? ClosestMatch.hint(r.table(), catalog.tables(schema)) : ""),
                    "name an existing table (and references.schema if it is not in " + spec.targetSchema() + ")"));
            return;
        }
        List<UniqueKey> uniques = catalog.uniqueKeys(schema, r.table());
        boolean keyed = uniques.stream().anyMatch(u -> u.columns().equals(List.of(r.column())));
        if (!keyed) {
            add.accept(new SpecProblem(p + ".column", "table " + schema + "." + r.table() + " has no primary key or "
                    + "unique index on exactly (" + r.column() + "): PostgreSQL cannot reference it",
                    "reference a column with a primary key or unique index"
                            + (uniques.isEmpty() ? "" : "; keys of " + r.table() + ": " + String.join(", ",
                            uniques.stream().map(u -> "(" + String.join(", ", u.columns()) + ")").toList()))
                            + ", or create one first (CREATE UNIQUE INDEX CONCURRENTLY)"));
        }
    }

    private static void parse(Connection c, String path, String sql, Consumer<SpecProblem> add) throws SQLException {
        Savepoint sp = c.setSavepoint();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.getMetaData();
        } catch (PSQLException e) {
            if (e.getSQLState() != null && e.getSQLState().startsWith("08")) {
                throw e;
            }
            String msg = e.getServerErrorMessage() != null ? e.getServerErrorMessage().getMessage() : e.getMessage();
            add.accept(new SpecProblem(path, "rejected by PostgreSQL: " + msg + " (SQLState " + e.getSQLState() + ")",
                    "write an expression over the new shape's columns that PostgreSQL accepts"));
        } finally {
            c.rollback(sp);
        }
    }

    private static String unquote(String quoted) {
        return quoted.startsWith("\"") ? quoted.substring(1, quoted.length() - 1).replace("\"\"", "\"") : quoted;
    }
}
