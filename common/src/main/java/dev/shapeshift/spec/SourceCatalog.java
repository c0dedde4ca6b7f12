package dev.shapeshift.spec;

import dev.shapeshift.db.Sql;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What the live database says about tables, columns, keys and types. Every query reads
 * {@code pg_catalog} with names as bind parameters; nothing here puts a name into SQL text.
 */
final class SourceCatalog {

    /** A live column: name, {@code format_type} text, and whether it is NOT NULL. */
    record CatalogColumn(String name, String type, boolean notNull) {
        Column column() {
            return new Column(name, type);
        }
    }

    /** A unique, valid, non-partial index on plain columns; {@code primary} for the primary key. */
    record UniqueKey(String index, boolean primary, List<String> columns) {
    }

    private static final String TABLE_OID = "(SELECT c.oid FROM pg_catalog.pg_class c"
            + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p'))";

    private final Connection connection;

    SourceCatalog(Connection connection) {
        this.connection = connection;
    }

    boolean schemaExists(String schema) throws SQLException {
        return !strings("SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = ?", schema).isEmpty();
    }

    List<String> schemas() throws SQLException {
        return strings("SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname NOT LIKE 'pg\\_%'"
                + " AND nspname <> 'information_schema' ORDER BY 1");
    }

    /** Ordinary and partitioned tables of a schema. */
    List<String> tables(String schema) throws SQLException {
        return strings("SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
                + " ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind IN ('r', 'p') ORDER BY 1", schema);
    }

    /** Schemas (other than the given one) that hold a table of this name. */
    List<String> schemasWithTable(String table, String except) throws SQLException {
        return strings("SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
                + " ON n.oid = c.relnamespace WHERE c.relname = ? AND n.nspname <> ? AND c.relkind IN ('r', 'p')"
                + " ORDER BY 1", table, except);
    }

    /** Whether any relation (table, view, sequence, index …) has this name in the schema. */
    boolean relationExists(String schema, String name) throws SQLException {
        return !strings("SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
                + " ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?", schema, name).isEmpty();
    }

    /** Columns an INSERT that leaves them out fails on: NOT NULL, no default, not identity or generated. */
    List<String> requiredWithoutDefault(String schema, String table) throws SQLException {
        return strings("SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = " + TABLE_OID
                + " AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull AND NOT a.atthasdef"
                + " AND a.attidentity = '' AND a.attgenerated = '' ORDER BY a.attnum", schema, table);
    }

    List<CatalogColumn> columns(String schema, String table) throws SQLException {
        String sql = "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull"
                + " FROM pg_catalog.pg_attribute a WHERE a.attrelid = " + TABLE_OID
                + " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
        List<CatalogColumn> out = new ArrayList<>();
        out.addAll(Sql.list(connection, sql, rs -> new CatalogColumn(rs.getString(1), rs.getString(2), rs.getBoolean(3)),
                schema, table));
        return out;
    }

    /**
     * The columns whose values come from a sequence: serial and identity columns
     * ({@code pg_get_serial_sequence}) and columns with a {@code DEFAULT nextval(…)}.
     */
    java.util.Set<String> sequencedColumns(String schema, String table) throws SQLException {
        String sql = "SELECT a.attname FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d"
                + " ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = " + TABLE_OID
                + " AND a.attnum > 0 AND NOT a.attisdropped AND (a.attidentity <> ''"
                + " OR pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%')";
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        out.addAll(Sql.list(connection, sql, rs -> rs.getString(1), schema, table));
        return out;
    }

    /** Unique keys usable as a migration key: valid, not partial, no expressions; primary key first. */
    List<UniqueKey> uniqueKeys(String schema, String table) throws SQLException {
        String sql = "SELECT ic.relname, i.indisprimary, ARRAY(SELECT a.attname FROM"
                + " unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)"
                + " JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
                + " WHERE k.ord <= i.indnkeyatts ORDER BY k.ord)::text[]"
                + " FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
                + " WHERE i.indrelid = " + TABLE_OID
                + " AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL"
                + " ORDER BY i.indisprimary DESC, ic.relname";
        List<UniqueKey> out = new ArrayList<>();
        Sql.each(connection, sql, rs -> {
                Array cols = rs.getArray(3);
                out.add(new UniqueKey(rs.getString(1), rs.getBoolean(2), Arrays.asList((String[]) cols.getArray())));
            }, schema, table);
        return out;
    }

    /** The canonical name of a type, or empty if PostgreSQL does not know it. */
    Optional<String> regtype(String typeText) throws SQLException {
        List<String> r = strings("SELECT pg_catalog.format_type(pg_catalog.to_regtype(?), NULL)", typeText);
        return r.isEmpty() || r.get(0) == null ? Optional.empty() : Optional.of(r.get(0));
    }

    /** Of the given function names, those that have a volatile overload (they may have side effects). */
    List<String> volatileFunctions(List<String> names) throws SQLException {
        if (names.isEmpty()) {
            return List.of();
        }
        try (PreparedStatement ps = connection.prepareStatement("SELECT DISTINCT proname FROM pg_catalog.pg_proc"
                + " WHERE proname = ANY (?) AND provolatile = 'v' ORDER BY 1")) {
            ps.setArray(1, connection.createArrayOf("text", names.toArray()));
            return collect(ps);
        }
    }

    private List<String> strings(String sql, String... params) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            return collect(ps);
        }
    }

    private static List<String> collect(PreparedStatement ps) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
