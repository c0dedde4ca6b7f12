package dev.shapeshift.sql;

/**
 * SQL identifiers. Every identifier Shapeshift puts into SQL text has been checked against the
 * database catalog first and is then quoted here; values are always bind parameters.
 */
public final class Ident {
    private Ident() {
    }

    /** Quotes one identifier the way PostgreSQL's {@code quote_ident} does, always. */
    public static String quote(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("empty SQL identifier");
        }
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("SQL identifier contains a NUL character");
        }
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /** {@code "schema"."table"}. */
    public static String qualified(String schema, String table) {
        return quote(schema) + "." + quote(table);
    }

    /** Quotes and joins a list of column names with {@code ", "}, optionally prefixed by an alias. */
    public static String columnList(java.util.List<String> names, String alias) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            if (alias != null) {
                sb.append(alias).append('.');
            }
            sb.append(quote(n));
        }
        return sb.toString();
    }
}
