package dev.shapeshift.coordinator.contract;

import dev.shapeshift.coordinator.contract.AccessReport.Dependent;
import dev.shapeshift.db.Sql;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Database objects that use the old shape now, whatever runs or not: they are not in any caller's
 * statement text, and the contract would break them (or a {@code DROP COLUMN} would refuse them).
 *
 * <ul>
 *   <li>From the catalog's dependency graph ({@code pg_depend}): views, materialized views and
 *       rules (through {@code pg_rewrite}), functions with SQL-standard bodies ({@code BEGIN ATOMIC}),
 *       triggers, policies, foreign keys of other tables — every <em>normal</em> dependency on the
 *       old columns (in place) or on the old table (table mode). Indexes, defaults and constraints
 *       of the table itself go with the column and are not listed (most are <em>automatic</em>
 *       dependencies; a CHECK's expression is a normal one, left out by name).</li>
 *   <li>From function bodies ({@code pg_proc.prosrc}) of SQL and PL/pgSQL functions and procedures
 *       outside the system schemas and Shapeshift's own: the body's text, matched like a statement
 *       ({@link ShapeMatcher}). PostgreSQL records no dependency for them. SQL built at run time
 *       ({@code EXECUTE 'SELECT ' || col}) and other languages are not seen.</li>
 * </ul>
 */
final class Dependents {
    private static final String NOT_OURS = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'shapeshift', "
            + "'shapeshift_archive') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

    private Dependents() {
    }

    /** The objects using the old shape; empty when the table does not exist (any more). */
    static List<Dependent> find(Connection c, OldShape shape, ShapeMatcher matcher) throws SQLException {
        List<Dependent> out = new ArrayList<>();
        if (shape.dropsSomething()) {
            fromDependencies(c, shape, out);
        }
        fromFunctionBodies(c, matcher, out);
        return out;
    }

    private static void fromDependencies(Connection c, OldShape shape, List<Dependent> out) throws SQLException {
        String sql = "SELECT d.classid::regclass::text, "
                + "  CASE WHEN d.classid = 'pg_rewrite'::regclass THEN (SELECT CASE WHEN r.rulename = '_RETURN' "
                + "    THEN quote_ident(vn.nspname) || '.' || quote_ident(v.relname) "
                + "    ELSE quote_ident(r.rulename) || ' on ' || quote_ident(vn.nspname) || '.' || quote_ident(v.relname) END "
                + "    FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace "
                + "    WHERE r.oid = d.objid) "
                + "  WHEN d.classid = 'pg_proc'::regclass THEN d.objid::regprocedure::text "
                + "  ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END, "
                + "  CASE WHEN d.classid = 'pg_rewrite'::regclass THEN (SELECT CASE WHEN r.rulename <> '_RETURN' THEN 'rule' "
                + "    WHEN v.relkind = 'm' THEN 'materialized view' ELSE 'view' END "
                + "    FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class WHERE r.oid = d.objid) "
                + "  WHEN d.classid = 'pg_proc'::regclass THEN (SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END "
                + "    FROM pg_proc p WHERE p.oid = d.objid) "
                + "  WHEN d.classid = 'pg_trigger'::regclass THEN 'trigger' "
                + "  WHEN d.classid = 'pg_policy'::regclass THEN 'policy' "
                + "  WHEN d.classid = 'pg_constraint'::regclass THEN 'constraint' "
                + "  ELSE d.classid::regclass::text END, "
                + "  d.columns "
                + "FROM (SELECT d.classid, d.objid, min(d.objsubid) AS objsubid, "
                + "    array_agg(DISTINCT a.attname::text) FILTER (WHERE a.attname IS NOT NULL) AS columns "
                + "  FROM pg_depend d "
                + "  JOIN pg_class t ON t.oid = d.refobjid "
                + "  JOIN pg_namespace tn ON tn.oid = t.relnamespace "
                + "  LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0 "
                + "  WHERE d.refclassid = 'pg_class'::regclass AND d.deptype = 'n' AND tn.nspname = ? AND t.relname = ? "
                + "    AND NOT (d.classid = 'pg_rewrite'::regclass AND EXISTS (SELECT 1 FROM pg_rewrite r "
                + "      WHERE r.oid = d.objid AND r.ev_class = t.oid AND r.rulename = '_RETURN')) "
                // a CHECK of the table itself depends on its columns through its expression ('n'), but
                // DROP COLUMN drops it along, like the table's indexes and other constraints
                + "    AND NOT (d.classid = 'pg_constraint'::regclass AND EXISTS (SELECT 1 FROM pg_constraint k "
                + "      WHERE k.oid = d.objid AND k.conrelid = t.oid AND k.contype = 'c')) "
                + (shape.inPlace() ? "    AND a.attname = ANY (?) " : "")
                + "  GROUP BY d.classid, d.objid) d ORDER BY 3, 2";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, shape.schema());
            ps.setString(2, shape.table());
            if (shape.inPlace()) {
                ps.setArray(3, c.createArrayOf("text", shape.dropColumns().toArray()));
            }
            try (ResultSet rs = ps.executeQuery()) {
                List<String> seen = new ArrayList<>();
                while (rs.next()) {
                    String name = rs.getString(2);
                    String kind = rs.getString(3);
                    if (seen.contains(kind + " " + name)) {
                        continue;
                    }
                    seen.add(kind + " " + name);
                    Array cols = rs.getArray(4);
                    List<String> columns = cols == null ? List.of() : List.of((String[]) cols.getArray());
                    out.add(new Dependent(name, kind, shape.inPlace()
                            ? "depends on column(s) " + String.join(", ", columns) + " (pg_depend)"
                            : "depends on the old table (pg_depend)"));
                }
            }
        }
    }

    private static void fromFunctionBodies(Connection c, ShapeMatcher matcher, List<Dependent> out) throws SQLException {
        Sql.each(c, "SELECT p.oid::regprocedure::text, "
                + "CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, l.lanname, p.prosrc "
                + "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang "
                + "WHERE l.lanname IN ('sql', 'plpgsql') AND " + NOT_OURS + " AND p.prosrc IS NOT NULL AND p.prosrc <> '' "
                + "AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid "
                + "  AND e.deptype = 'e') ORDER BY 1", rs -> {
                Optional<String> why = matcher.match(rs.getString(4));
                String name = rs.getString(1);
                if (why.isPresent() && out.stream().noneMatch(d -> d.name().equals(name))) {
                    out.add(new Dependent(name, rs.getString(2), "its " + rs.getString(3) + " body " + why.get()));
                }
            });
    }
}
