package dev.shapeshift.coordinator.contract;

import dev.shapeshift.db.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The brownout's lockout: the {@code REVOKE}s that take the application roles' access to the old
 * shape away, and the {@code GRANT}s that give it back, computed from the table's ACLs.
 *
 * <p>Who is locked out: every grantee in the table's (and its columns') ACLs except the table's
 * owner and Shapeshift's roles ({@link Readers#shapeshiftRoles}: they keep syncing the old shape
 * until the contract). In place, a table-level {@code SELECT}, {@code INSERT}, {@code UPDATE} or
 * {@code REFERENCES} becomes the same privilege on every other column, and column grants on the old
 * columns are revoked ({@code DELETE}, {@code TRUNCATE} and {@code TRIGGER} name no column and stay,
 * as they would after the drop); in table mode every privilege on the old table is revoked. A table-level
 * {@code REVOKE} also revokes the grantee's column grants of that privilege (PostgreSQL does so, per
 * the SQL standard), so the undo grants those back too. {@code GRANT}/{@code REVOKE} only rewrite
 * the ACL: no lock on the table that waits for the application's queries.
 *
 * <p>Not reachable by a lockout: the owner, superusers and members of either (they are reported as
 * {@code untouched}, found with {@code has_column_privilege} after the lockout).
 *
 * @param lock      the statements that lock the application roles out, in order
 * @param undo      the statements that restore the access exactly as it was, in order
 * @param lockedOut the grantees whose access is revoked ({@code PUBLIC} for everyone's)
 */
record Lockout(List<String> lock, List<String> undo, List<String> lockedOut) {

    private static final Set<String> COLUMN_PRIVILEGES = Set.of("SELECT", "INSERT", "UPDATE", "REFERENCES");

    /**
     * Runs {@code onGrant} on each privilege that ACL rows grant to others than the table's owner and Shapeshift's
     * roles. {@code rest}: any further columns, then a FROM clause over {@code aclexplode(…) a} and {@code pg_roles r}.
     * Columns: 1 the grantee as SQL names it ({@code PUBLIC} or the quoted role), 2 its oid, 3 the privilege,
     * 4 grantable, then those of {@code rest}.
     */
    private static void eachGrant(Connection c, String rest, String table, long owner, Set<Long> shapeshiftRoles,
                                  Sql.RowAction onGrant) throws SQLException {
        Sql.each(c, "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, a.grantee::bigint, "
                + "a.privilege_type, a.is_grantable" + rest, rs -> {
                    long grantee = rs.getLong(2);
                    if (grantee != owner && !shapeshiftRoles.contains(grantee)) {
                        onGrant.accept(rs);
                    }
                }, table);
    }

    static Lockout plan(Connection c, OldShape shape, Set<Long> shapeshiftRoles) throws SQLException {
        String table = quote(shape.schema()) + "." + quote(shape.table());
        long[] ownerOf = {-1};
        List<String> columns = Sql.list(c, "SELECT c.relowner, a.attname FROM pg_class c "
                + "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
                + "WHERE c.oid = to_regclass(?) ORDER BY a.attnum", rs -> {
                    ownerOf[0] = rs.getLong(1);
                    return rs.getString(2);
                }, table);
        long owner = ownerOf[0];
        if (owner < 0) {
            throw new SQLException("table " + shape.schema() + "." + shape.table() + " does not exist", "42P01");
        }
        Set<String> old = shape.inPlace() ? Set.copyOf(shape.dropColumns()) : Set.copyOf(columns);
        List<String> others = columns.stream().filter(col -> !old.contains(col)).toList();
        // grantee -> privilege -> grantable, at table level and per column
        Map<String, Map<String, Boolean>> tableGrants = new TreeMap<>();
        Map<String, Map<String, Map<String, Boolean>>> columnGrants = new TreeMap<>();
        eachGrant(c, " FROM pg_class t, aclexplode(t.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
                + "WHERE t.oid = to_regclass(?)", table, owner, shapeshiftRoles, rs ->
                tableGrants.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).put(rs.getString(3), rs.getBoolean(4)));
        eachGrant(c, ", att.attname FROM pg_attribute att, aclexplode(att.attacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
                + "WHERE att.attrelid = to_regclass(?) AND att.attnum > 0 AND NOT att.attisdropped", table, owner,
                shapeshiftRoles, rs -> columnGrants.computeIfAbsent(rs.getString(1), k -> new TreeMap<>())
                        .computeIfAbsent(rs.getString(3), k -> new TreeMap<>()).put(rs.getString(5), rs.getBoolean(4)));
        List<String> lock = new ArrayList<>();
        List<String> undo = new ArrayList<>();
        Set<String> lockedOut = new TreeSet<>();
        Set<String> grantees = new TreeSet<>(tableGrants.keySet());
        grantees.addAll(columnGrants.keySet());
        for (String g : grantees) {
            Map<String, Boolean> privileges = tableGrants.getOrDefault(g, Map.of());
            Map<String, Map<String, Boolean>> perColumn = columnGrants.getOrDefault(g, Map.of());
            Set<String> all = new LinkedHashSet<>(privileges.keySet());
            all.addAll(perColumn.keySet());
            for (String p : all) {
                if (shape.inPlace() && !COLUMN_PRIVILEGES.contains(p)) {
                    continue;   // DELETE, TRUNCATE, TRIGGER name no column: the drop leaves them working, so does the brownout
                }
                Boolean tableLevel = privileges.get(p);
                Map<String, Boolean> had = perColumn.getOrDefault(p, Map.of());
                if (tableLevel != null) {
                    boolean keepOthers = shape.inPlace() && COLUMN_PRIVILEGES.contains(p) && !others.isEmpty();
                    lock.add("REVOKE " + p + " ON " + table + " FROM " + g);
                    if (keepOthers) {
                        lock.add("GRANT " + p + " (" + list(others) + ") ON " + table + " TO " + g + option(tableLevel));
                    }
                    lockedOut.add(g);
                    undo.add("GRANT " + p + " ON " + table + " TO " + g + option(tableLevel));
                    if (keepOthers) {
                        List<String> added = others.stream().filter(col -> !had.containsKey(col)).toList();
                        if (!added.isEmpty()) {
                            undo.add("REVOKE " + p + " (" + list(added) + ") ON " + table + " FROM " + g);
                        }
                    }
                    // the table-level REVOKE took the column grants of p with it: give back those the lock did not keep
                    for (Map.Entry<String, Boolean> col : had.entrySet()) {
                        if (!keepOthers || old.contains(col.getKey())) {
                            undo.add("GRANT " + p + " (" + quote(col.getKey()) + ") ON " + table + " TO " + g + option(col.getValue()));
                        }
                    }
                } else {
                    for (Map.Entry<String, Boolean> col : had.entrySet()) {
                        if (old.contains(col.getKey())) {
                            lock.add("REVOKE " + p + " (" + quote(col.getKey()) + ") ON " + table + " FROM " + g);
                            undo.add("GRANT " + p + " (" + quote(col.getKey()) + ") ON " + table + " TO " + g + option(col.getValue()));
                            lockedOut.add(g);
                        }
                    }
                }
            }
        }
        return new Lockout(lock, undo, List.copyOf(lockedOut));
    }

    /**
     * The login roles other than Shapeshift's that can still read or write the old shape (run after
     * the lockout): the owner, superusers, members of either. Each with why, for people.
     */
    static List<String> untouched(Connection c, OldShape shape, Set<Long> shapeshiftRoles) throws SQLException {
        String table = quote(shape.schema()) + "." + quote(shape.table());
        List<String> columns = shape.inPlace() ? shape.dropColumns() : List.of();
        String access = columns.isEmpty()
                ? "(has_table_privilege(r.oid, t.oid, 'SELECT') OR has_table_privilege(r.oid, t.oid, 'INSERT') "
                + "OR has_table_privilege(r.oid, t.oid, 'UPDATE') OR has_table_privilege(r.oid, t.oid, 'DELETE'))"
                : "EXISTS (SELECT 1 FROM unnest(?::text[]) col WHERE has_column_privilege(r.oid, t.oid, col, 'SELECT') "
                + "OR has_column_privilege(r.oid, t.oid, col, 'UPDATE') OR has_column_privilege(r.oid, t.oid, col, 'INSERT'))";
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT r.rolname, CASE WHEN r.rolsuper THEN 'a superuser' "
                + "WHEN r.oid = t.relowner THEN 'owns the table' WHEN pg_has_role(r.oid, t.relowner, 'USAGE') "
                + "THEN 'member of the owner' ELSE 'member of a role with access' END "
                + "FROM pg_roles r, pg_class t WHERE t.oid = to_regclass(?) AND r.rolcanlogin "
                + "AND NOT (r.oid::bigint = ANY (?)) AND " + access + " ORDER BY r.rolname")) {
            ps.setString(1, table);
            ps.setArray(2, c.createArrayOf("bigint", shapeshiftRoles.toArray()));
            if (!columns.isEmpty()) {
                ps.setArray(3, c.createArrayOf("text", columns.toArray()));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1) + " (" + rs.getString(2) + ")");
                }
            }
        }
        return out;
    }

    static void run(Connection c, List<String> statements) throws SQLException {
        try (java.sql.Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    private static String option(boolean grantable) {
        return grantable ? " WITH GRANT OPTION" : "";
    }

    private static String list(List<String> columns) {
        return String.join(", ", columns.stream().map(Lockout::quote).toList());
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }
}
