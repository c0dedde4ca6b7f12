package dev.shapeshift.spec;

import dev.shapeshift.spec.SourceCatalog.CatalogColumn;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.util.PSQLException;

/**
 * Checks one transform against the live source: it is one expression, calls no volatile function,
 * parses, names existing columns, and fits the target column's type.
 *
 * <p>The server only ever <em>describes</em> the wrapping statement (JDBC {@code getMetaData()}
 * on an unexecuted prepared statement: Parse and Describe, no Execute), inside the caller's
 * transaction that is rolled back, under a savepoint, with {@code WHERE false}. The expression
 * sits on its own lines between the wrapper's parentheses, so a line comment cannot swallow the
 * rest and a smuggled {@code ;} is refused by {@link SqlScanner} before the server sees anything.
 */
final class TransformCheck {
    private static final Pattern QUOTED = Pattern.compile("\"([^\"]+)\"");

    private final Connection connection;
    private final SourceCatalog catalog;
    private final String sourceTable;
    private final String sourceName;
    private final List<CatalogColumn> sourceColumns;

    TransformCheck(Connection connection, SourceCatalog catalog, String schema, String table, List<CatalogColumn> cols) {
        this.connection = connection;
        this.catalog = catalog;
        this.sourceTable = Ident.qualified(schema, table);
        this.sourceName = schema + "." + table;
        this.sourceColumns = cols;
    }

    /**
     * @param path       e.g. {@code target.columns[2].transform}
     * @param expr       the transform
     * @param castType   a checked type name to cast to explicitly, or null
     * @param assignTo   a checked, existing {@code schema.table(column)} the value must be assignable to, or null
     */
    Optional<SpecProblem> check(String path, String expr, String castType, String assignTo) throws SQLException {
        SqlScanner.Scan scan = SqlScanner.expression(expr);
        if (scan.problem().isPresent()) {
            return Optional.of(new SpecProblem(path, "contains " + scan.problem().get(), "write a single SQL expression"));
        }
        List<String> volatiles = catalog.volatileFunctions(new ArrayList<>(scan.functions()));
        if (!volatiles.isEmpty()) {
            return Optional.of(new SpecProblem(path, "calls volatile function(s) " + String.join(", ", volatiles)
                    + ": a transform must give the same result every time it is evaluated (backfill, sync and"
                    + " reconcile evaluate it independently) and must have no side effects",
                    "use only immutable or stable functions and operators"));
        }
        String sql;
        if (assignTo != null) {
            sql = "INSERT INTO " + assignTo + " SELECT (\n" + expr + "\n) FROM " + sourceTable + " WHERE false";
        } else if (castType != null) {
            sql = "SELECT (\n" + expr + "\n)::" + castType + " FROM " + sourceTable + " WHERE false";
        } else {
            sql = "SELECT (\n" + expr + "\n) FROM " + sourceTable + " WHERE false";
        }
        return describe(path, sql);
    }

    private Optional<SpecProblem> describe(String path, String sql) throws SQLException {
        Savepoint sp = connection.setSavepoint();
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            ResultSetMetaData md = ps.getMetaData();
            if (md != null && md.getColumnCount() != 1) {
                return Optional.of(new SpecProblem(path, "yields " + md.getColumnCount() + " values, not one",
                        "write a single SQL expression"));
            }
            return Optional.empty();
        } catch (PSQLException e) {
            if (e.getSQLState() != null && e.getSQLState().startsWith("08")) {
                throw e;
            }
            return Optional.of(problem(path, e));
        } finally {
            connection.rollback(sp);
        }
    }

    private SpecProblem problem(String path, PSQLException e) {
        String msg = e.getServerErrorMessage() != null ? e.getServerErrorMessage().getMessage() : e.getMessage();
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        return switch (state) {
            case "42703" -> new SpecProblem(path, msg + " in " + sourceName + unknownColumnHint(msg),
                    "fix the expression; it may use these columns: " + columnNames());
            case "42601" -> new SpecProblem(path, "does not parse: " + msg, "write a single valid SQL expression");
            case "42804", "42846" -> new SpecProblem(path, "type mismatch: " + msg,
                    "make the expression yield the column's type, e.g. with an explicit CAST(... AS type)");
            case "42883" -> new SpecProblem(path, msg, "use an existing function or operator, with matching argument types");
            case "57014" -> new SpecProblem(path, "checking the expression timed out", "retry; is the source table locked?");
            case "55P03" -> new SpecProblem(path, "could not lock the source table to check the expression (lock_timeout)",
                    "retry when no DDL holds the table");
            default -> new SpecProblem(path, "rejected by PostgreSQL: " + msg + " (SQLState " + state + ")",
                    "fix the expression");
        };
    }

    private String unknownColumnHint(String msg) {
        Matcher m = QUOTED.matcher(msg);
        if (!m.find()) {
            return "";
        }
        return ClosestMatch.hint(m.group(1), sourceColumns.stream().map(CatalogColumn::name).toList());
    }

    private String columnNames() {
        return String.join(", ", sourceColumns.stream().map(CatalogColumn::name).toList());
    }
}
