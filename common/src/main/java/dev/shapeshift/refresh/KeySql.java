package dev.shapeshift.refresh;

import dev.shapeshift.spec.Column;
import dev.shapeshift.sql.Ident;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * SQL fragments over a migration's key columns, shared by the statements that write the new
 * shape ({@link RefreshSql}) and those that compare it (the reconciler's): the quoted key tuple of
 * a table, typed bind parameters for one key, and the half-open range predicate of a
 * {@link KeyRange}.
 */
public final class KeySql {
    private final List<Column> key;

    public KeySql(List<Column> key) {
        this.key = List.copyOf(key);
    }

    /** {@code t."k1", t."k2"}. */
    public String tuple(String table) {
        StringJoiner t = new StringJoiner(", ");
        for (Column c : key) {
            t.add(table + "." + Ident.quote(c.name()));
        }
        return t.toString();
    }

    /** {@code t."k1" AS __k0, t."k2" AS __k1}: the key columns under position aliases. */
    public String aliased(String table) {
        StringJoiner t = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            t.add(table + "." + Ident.quote(key.get(i).name()) + " AS __k" + i);
        }
        return t.toString();
    }

    /** {@code ?::type1, ?::type2}: one key's values as text bind parameters, cast to the key types. */
    public String params() {
        StringJoiner p = new StringJoiner(", ");
        for (Column c : key) {
            p.add("?::" + c.type());
        }
        return p.toString();
    }

    /**
     * Binds the values of each non-null key of {@code bounds} as text from position {@code p}, in
     * order (what {@link #params()} casts, once per bound); returns the next free position.
     */
    public static int bind(PreparedStatement ps, int p, Key... bounds) throws SQLException {
        for (Key bound : bounds) {
            if (bound != null) {
                for (String v : bound.values()) {
                    ps.setString(p++, v);
                }
            }
        }
        return p;
    }

    /**
     * The conditions of a key range on {@code table}: {@code (key) > (after)} and/or
     * {@code (key) <= (upTo)}, each bound as {@link #params()}; empty for an open range.
     */
    public List<String> rangeConditions(String table, boolean hasAfter, boolean hasUpTo) {
        List<String> conditions = new ArrayList<>();
        if (hasAfter) {
            conditions.add("(" + tuple(table) + ") > (" + params() + ")");
        }
        if (hasUpTo) {
            conditions.add("(" + tuple(table) + ") <= (" + params() + ")");
        }
        return conditions;
    }

    /** {@link #rangeConditions} joined with AND, or {@code true} for an open range. */
    public String rangeWhere(String table, boolean hasAfter, boolean hasUpTo) {
        List<String> conditions = rangeConditions(table, hasAfter, hasUpTo);
        return conditions.isEmpty() ? "true" : String.join(" AND ", conditions);
    }
}
