package dev.shapeshift.bridge.capture;

import dev.shapeshift.sql.Ident;

/** A source table, schema-qualified. */
public record TableId(String schema, String table) {

    /** {@code schema.table} as a Debezium include-list regular expression. */
    public String includePattern() {
        return regex(schema) + "\\." + regex(table);
    }

    /** The quoted SQL name. */
    public String sql() {
        return Ident.quote(schema) + "." + Ident.quote(table);
    }

    @Override
    public String toString() {
        return schema + "." + table;
    }

    private static String regex(String s) {
        return s.replaceAll("([\\\\.\\[\\]{}()*+?^$|])", "\\\\$1");
    }
}
