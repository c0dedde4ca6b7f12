package dev.shapeshift.spec;

import dev.shapeshift.spec.SourceCatalog.CatalogColumn;
import dev.shapeshift.spec.SourceCatalog.UniqueKey;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The checks of a (statically valid enough) spec against the live source database. Runs in one
 * transaction that is always rolled back, with a short {@code statement_timeout} and
 * {@code lock_timeout}; reads the catalog with bind parameters and quotes a name into SQL only
 * after the catalog confirmed it.
 *
 * <p>Why one class of ~340 lines: one short method per check against the live database, all in the
 * same rolled-back transaction and collecting into one list, so every problem is reported in one
 * pass.
 */
final class LiveChecks {
    private final MigrationSpec spec;
    private final Connection connection;
    private final SourceCatalog catalog;
    private final List<SpecProblem> problems = new ArrayList<>();
    private List<Column> key = List.of();
    private List<CatalogColumn> sourceColumns = List.of();
    private boolean alreadyExpanded;
    /** The live target columns (name → {@code format_type}) the checks found; they go into the resolved spec. */
    private final Map<String, String> existingTargetTypes = new java.util.HashMap<>();
    private Set<String> sequencedKey = Set.of();
    private final boolean expanded;

    /**
     * @param expanded whether the migration's expand already ran: then the new shape must exist as
     *                 a whole, whatever {@code expand.ddl} says (workers resolve specs this way)
     */
    LiveChecks(MigrationSpec spec, Connection connection, boolean expanded) {
        this.expanded = expanded;
        this.spec = spec;
        this.connection = connection;
        this.catalog = new SourceCatalog(connection);
    }

    /** Runs the checks; problems are collected, SQL failures that are not the spec's fault are thrown. */
    Validation run(List<SpecProblem> staticProblems) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try (Statement st = connection.createStatement()) {
            st.execute("SET LOCAL statement_timeout = '5s'");
            st.execute("SET LOCAL lock_timeout = '1s'");
            checkAll();
        } finally {
            connection.rollback();
            connection.setAutoCommit(autoCommit);
        }
        List<SpecProblem> all = new ArrayList<>(staticProblems);
        problems.stream().filter(p -> !all.contains(p)).forEach(all::add);
        if (!all.isEmpty()) {
            return new Validation(spec, all, true, null, null);
        }
        ResolvedSpec resolved = new ResolvedSpec(spec, key, sourceColumns.stream().map(CatalogColumn::column).toList());
        resolved = resolved.withTargetTypes(resolved.targetTypesOf(existingTargetTypes));
        return new Validation(spec, all, true, resolved, ExpandPlan.of(resolved, alreadyExpanded, sequencedKey));
    }

    private void checkAll() throws SQLException {
        Source source = spec.source();
        if (!tableExists("source", source.schema(), source.table())) {
            return;
        }
        sourceColumns = catalog.columns(source.schema(), source.table());
        resolveKey();
        if (spec.mode() == Mode.TABLE && !key.isEmpty()) {
            sequencedKey = catalog.sequencedColumns(source.schema(), source.table());
        }
        Map<String, CatalogColumn> existingTarget = targetState();
        existingTarget.values().forEach(c -> existingTargetTypes.put(c.name(), c.type()));
        checkTypes();
        checkTransforms(existingTarget);
        if (spec.mode() != Mode.SINK && (!key.isEmpty() || spec.mode() == Mode.IN_PLACE)) {
            StructureChecks.live(spec, connection, catalog, sourceColumns, key, t -> regtypeOf(t).isPresent(), problems::add);
        }
        checkDropColumns();
        checkReverseColumns();
        checkReverseInsert();
    }

    private boolean tableExists(String prefix, String schema, String table) throws SQLException {
        if (!catalog.schemaExists(schema)) {
            add(prefix + ".schema", "schema \"" + schema + "\" does not exist" + ClosestMatch.hint(schema, catalog.schemas()),
                    "name an existing schema");
            return false;
        }
        if (catalog.tables(schema).contains(table)) {
            return true;
        }
        List<String> elsewhere = catalog.schemasWithTable(table, schema);
        String fix = elsewhere.isEmpty() ? "name an existing table" : "set " + prefix + ".schema to " + String.join(" or ", elsewhere);
        add(prefix + ".table", "table \"" + table + "\" does not exist in schema " + schema
                + ClosestMatch.hint(table, catalog.tables(schema)), fix);
        return false;
    }

    private void resolveKey() throws SQLException {
        Source source = spec.source();
        List<UniqueKey> uniques = catalog.uniqueKeys(source.schema(), source.table());
        Map<String, CatalogColumn> byName = byName(sourceColumns);
        List<String> names = source.key();
        if (names.isEmpty()) {
            Optional<UniqueKey> pk = uniques.stream().filter(UniqueKey::primary).findFirst();
            if (pk.isEmpty()) {
                add("source.key", "table " + qualifiedSource() + " has no primary key",
                        "add a primary key, or name key columns that have a unique index and are NOT NULL"
                                + candidates(uniques, byName));
                return;
            }
            names = pk.get().columns();
        }
        boolean allExist = true;
        for (int i = 0; i < names.size(); i++) {
            if (!byName.containsKey(names.get(i))) {
                allExist = false;
                add("source.key[" + i + "]", "column \"" + names.get(i) + "\" does not exist in " + qualifiedSource()
                        + ClosestMatch.hint(names.get(i), byName.keySet()), "name an existing column");
            }
        }
        if (!allExist) {
            return;
        }
        Set<String> wanted = new HashSet<>(names);
        boolean unique = uniques.stream().anyMatch(u -> new HashSet<>(u.columns()).equals(wanted));
        List<String> nullable = names.stream().filter(n -> !byName.get(n).notNull()).toList();
        if (!unique || !nullable.isEmpty()) {
            String why = !unique ? "no primary key or unique index on exactly (" + String.join(", ", names) + ")"
                    : "key column(s) " + String.join(", ", nullable) + " allow NULL";
            add("source.key", "(" + String.join(", ", names) + ") is not a key of " + qualifiedSource() + ": " + why,
                    "use the primary key (omit source.key) or columns with a unique index that are NOT NULL"
                            + candidates(uniques, byName));
            return;
        }
        key = names.stream().map(n -> byName.get(n).column()).toList();
    }

    /** The target columns that already exist (name → column); records problems about the target's state. */
    private Map<String, CatalogColumn> targetState() throws SQLException {
        boolean generated = expanded || spec.expand().ddl().isEmpty();
        List<CatalogColumn> existing;
        if (spec.mode() == Mode.SINK) {
            return Map.of(); // the new shape lives in another system: nothing to find here
        } else if (spec.mode() == Mode.IN_PLACE) {
            existing = sourceColumns;
        } else if (!catalog.schemaExists(spec.targetSchema())) {
            add("target.schema", "schema \"" + spec.targetSchema() + "\" does not exist", "create it first, or name an existing schema");
            return Map.of();
        } else if (catalog.tables(spec.targetSchema()).contains(spec.targetTable())) {
            if (!generated) {
                add("target.table", "table " + qualifiedTarget() + " already exists, but expand.ddl would create the new shape",
                        "drop expand.ddl to use the existing table, or name a new table");
                return Map.of();
            }
            existing = catalog.columns(spec.targetSchema(), spec.targetTable());
            checkTargetTableKey(byName(existing));
        } else {
            if (expanded) {
                add("target.table", "table " + qualifiedTarget() + " does not exist, but the migration is past expand",
                        "the new table was dropped behind Shapeshift's back: roll the migration back and start again");
            }
            if (catalog.relationExists(spec.targetSchema(), spec.targetTable())) {
                add("target.table", qualifiedTarget() + " already exists and is not a table", "name a new table");
            }
            return Map.of();
        }
        return existingTargetColumns(byName(existing), generated);
    }

    private Map<String, CatalogColumn> existingTargetColumns(Map<String, CatalogColumn> existing, boolean generated) {
        List<TargetColumn> cols = spec.target().columns();
        List<String> present = cols.stream().map(TargetColumn::name).filter(existing::containsKey).toList();
        boolean tableExists = spec.mode() == Mode.TABLE;
        if (present.isEmpty() && !tableExists) {
            if (expanded) {
                add("target.columns", "none of the new columns exist in " + qualifiedTarget() + ", but the migration is past expand",
                        "the new columns were dropped behind Shapeshift's back: roll the migration back and start again");
            }
            return Map.of();
        }
        if (!generated) {
            add("target.columns", "column(s) " + String.join(", ", present) + " already exist in " + qualifiedTarget()
                    + ", but expand.ddl would create the new shape", "rename the new columns, or drop expand.ddl");
            return Map.of();
        }
        if (present.size() != cols.size()) {
            List<String> missing = cols.stream().map(TargetColumn::name).filter(n -> !existing.containsKey(n)).toList();
            add("target.columns", "the new shape is partly there: " + (present.isEmpty() ? "none" : String.join(", ", present))
                    + " exist in " + qualifiedTarget() + ", " + String.join(", ", missing) + " do not",
                    "add the missing columns or drop the existing ones, so that the expand is all or nothing");
            return Map.of();
        }
        alreadyExpanded = true;
        for (int i = 0; i < cols.size(); i++) {
            TargetColumn c = cols.get(i);
            CatalogColumn live = existing.get(c.name());
            Optional<String> declared = regtypeOf(c.type());
            if (declared.isPresent() && !declared.get().equals(baseType(live.type()))) {
                add("target.columns[" + i + "].type", "is " + c.type() + ", but the existing column " + c.name()
                        + " is " + live.type(), "set type to " + live.type() + " or omit it");
            }
        }
        return existing;
    }

    private void checkTargetTableKey(Map<String, CatalogColumn> target) {
        for (Column k : key) {
            CatalogColumn t = target.get(k.name());
            if (t == null || !t.type().equals(k.type())) {
                add("target.table", "existing table " + qualifiedTarget() + " lacks key column " + k.name() + " " + k.type(),
                        "the target's key columns must be the source key columns with the same types");
            }
        }
    }

    private void checkTypes() throws SQLException {
        List<TargetColumn> cols = spec.target().columns();
        for (int i = 0; i < cols.size(); i++) {
            String type = cols.get(i).type();
            if (type != null && StaticChecks.TYPE.matcher(type.trim()).matches() && regtypeOf(type).isEmpty()) {
                add("target.columns[" + i + "].type", "type \"" + type + "\" does not exist", "use an existing PostgreSQL type");
            }
        }
    }

    private void checkTransforms(Map<String, CatalogColumn> existingTarget) throws SQLException {
        Source s = spec.source();
        TransformCheck check = new TransformCheck(connection, catalog, s.schema(), s.table(), sourceColumns);
        List<TargetColumn> cols = spec.target().columns();
        for (int i = 0; i < cols.size(); i++) {
            TargetColumn c = cols.get(i);
            if (c.transform() == null || c.transform().isBlank() || c.name() == null) {
                continue;
            }
            String assignTo = existingTarget.containsKey(c.name()) ? qualifiedTarget() + " (" + Ident.quote(c.name()) + ")" : null;
            String cast = c.type() != null && StaticChecks.TYPE.matcher(c.type().trim()).matches()
                    && regtypeOf(c.type()).isPresent() ? c.type().trim() : null;
            check.check("target.columns[" + i + "].transform", c.transform(), cast, assignTo).ifPresent(problems::add);
        }
    }

    /** Every reverse transform writes an existing old column (its expression is checked by the write switch's round trip). */
    private void checkReverseColumns() {
        Set<String> names = byName(sourceColumns).keySet();
        for (String col : spec.writes().reverse().keySet()) {
            if (col != null && !names.contains(col)) {
                add("writes.reverse." + col, "column \"" + col + "\" does not exist in " + qualifiedSource()
                        + ClosestMatch.hint(col, names),
                        "name an old column of the source table");
            }
        }
    }

    /**
     * Table mode with reverse transforms: after the write switch the reverse sync inserts a source
     * row for every row the application inserts into the target, with the key and the reversed
     * columns; every other old column takes its default. One that is NOT NULL without a default
     * would fail every such insert (and stop the sync), so it must get a reverse transform.
     */
    private void checkReverseInsert() throws SQLException {
        if (spec.mode() != Mode.TABLE || !spec.writes().switchWrites() || spec.writes().reverse().isEmpty()) {
            return;
        }
        List<String> missing = new ArrayList<>();
        for (String col : catalog.requiredWithoutDefault(spec.source().schema(), spec.source().table())) {
            if (!spec.writes().reverse().containsKey(col) && key.stream().noneMatch(k -> k.name().equals(col))) {
                missing.add(col);
            }
        }
        if (!missing.isEmpty()) {
            add("writes.reverse", "old column(s) " + String.join(", ", missing) + " of " + qualifiedSource()
                    + " are NOT NULL without a default and have no reverse transform: the reverse sync could not insert "
                    + "the old row of a row the application inserts into the new table",
                    "give each a reverse transform (e.g. " + missing.get(0) + ": <expression over the new columns>), "
                    + "or a default");
        }
    }

    private void checkDropColumns() {
        Set<String> names = byName(sourceColumns).keySet();
        List<String> drops = spec.contract().dropColumns();
        for (int i = 0; i < drops.size(); i++) {
            if (!names.contains(drops.get(i))) {
                add("contract.dropColumns[" + i + "]", "column \"" + drops.get(i) + "\" does not exist in " + qualifiedSource()
                        + ClosestMatch.hint(drops.get(i), names), "name an existing column of the source table");
            }
        }
    }

    private Optional<String> regtypeOf(String type) {
        if (type == null || !StaticChecks.TYPE.matcher(type.trim()).matches()) {
            return Optional.empty();
        }
        try {
            java.sql.Savepoint sp = connection.setSavepoint();
            try {
                return catalog.regtype(type.trim());
            } finally {
                connection.rollback(sp);
            }
        } catch (SQLException e) {
            return Optional.empty();
        }
    }

    /** {@code format_type} with the type modifier removed: {@code character varying(20)} → {@code character varying}. */
    private static String baseType(String formatted) {
        return formatted.replaceAll("\\(\\d+(,\\d+)?\\)", "");
    }

    private static String candidates(List<UniqueKey> uniques, Map<String, CatalogColumn> byName) {
        List<String> usable = uniques.stream()
                .filter(u -> u.columns().stream().allMatch(c -> byName.containsKey(c) && byName.get(c).notNull()))
                .map(u -> "(" + String.join(", ", u.columns()) + ")").toList();
        return usable.isEmpty() ? "" : "; candidates: " + String.join(", ", usable);
    }

    private static Map<String, CatalogColumn> byName(List<CatalogColumn> cols) {
        return cols.stream().collect(Collectors.toMap(CatalogColumn::name, Function.identity(), (a, b) -> a,
                java.util.LinkedHashMap::new));
    }

    private String qualifiedSource() {
        return spec.source().schema() + "." + spec.source().table();
    }

    private String qualifiedTarget() {
        return Ident.qualified(spec.targetSchema(), spec.targetTable());
    }

    private void add(String path, String message, String fix) {
        problems.add(new SpecProblem(path, message, fix));
    }
}
