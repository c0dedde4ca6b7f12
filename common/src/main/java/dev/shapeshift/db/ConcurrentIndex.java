package dev.shapeshift.db;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds one named index with {@code CREATE [UNIQUE] INDEX CONCURRENTLY} so that a failed or
 * killed build is never taken for a finished one: a build that fails (lock timeout, a duplicate
 * key, a crash) leaves an INVALID index behind, which {@code IF NOT EXISTS} would silently skip.
 * Every attempt first looks the index up: valid → done; INVALID → dropped concurrently and built
 * again. After the build the index must be valid ({@code pg_index.indisvalid}), or it is dropped
 * and the build fails.
 */
public final class ConcurrentIndex {
    private static final Logger log = LoggerFactory.getLogger(ConcurrentIndex.class);
    /** {@code CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON [ONLY] table}. */
    private static final Pattern CIC = Pattern.compile("^\\s*create\\s+(unique\\s+)?index\\s+concurrently\\s+"
            + "(if\\s+not\\s+exists\\s+)?(\"(?:[^\"]|\"\")+\"|[a-z_][a-z0-9_$]*)\\s+on\\s+(only\\s+)?"
            + "((?:\"(?:[^\"]|\"\")+\"|[a-z_][a-z0-9_$]*)(?:\\s*\\.\\s*(?:\"(?:[^\"]|\"\")+\"|[a-z_][a-z0-9_$]*))?)",
            Pattern.CASE_INSENSITIVE);

    /** What a build found and did. */
    public enum Outcome {
        /** A valid index of that name was there already. */
        PRESENT,
        /** Built now. */
        BUILT,
        /** An INVALID index of that name was dropped and built again. */
        REBUILT
    }

    /** The index name and its table as written in a {@code CREATE INDEX CONCURRENTLY} statement. */
    public record Target(String index, String table) {
    }

    private ConcurrentIndex() {
    }

    /** The index and table of a {@code CREATE INDEX CONCURRENTLY} statement with a name; empty otherwise. */
    public static Optional<Target> parse(String sql) {
        Matcher m = CIC.matcher(stripLeadingComments(sql));
        if (!m.find()) {
            return Optional.empty();
        }
        return Optional.of(new Target(unquote(m.group(3)), m.group(5).replaceAll("\\s+", "")));
    }

    /**
     * Builds {@code createSql} (a {@code CREATE … INDEX CONCURRENTLY} of index {@code name} on
     * {@code table}, as written in SQL) through {@code ddl}, outside a transaction.
     */
    public static Outcome build(LockSafeDdl ddl, String table, String name, String createSql) {
        return ddl.outsideTransaction("building index " + name + " on " + table, c -> {
            String schema = schemaOf(c, table);
            Optional<Boolean> valid = validity(c, schema, name);
            Outcome outcome = Outcome.BUILT;
            if (valid.isPresent() && valid.get()) {
                return Outcome.PRESENT;
            }
            if (valid.isPresent()) {
                log.warn("dropping INVALID index left by an earlier build index={}.{}", schema, name);
                drop(c, schema, name);
                outcome = Outcome.REBUILT;
            }
            try (Statement s = c.createStatement()) {
                s.execute(createSql);
            }
            Optional<Boolean> after = validity(c, schema, name);
            if (after.isEmpty() || !after.get()) {
                if (after.isPresent()) {
                    drop(c, schema, name);
                }
                throw new ShapeshiftException(ErrorCode.INTERNAL, "index " + schema + "." + name + " is "
                        + (after.isEmpty() ? "missing" : "INVALID (dropped)") + " after " + firstWords(createSql)
                        + ": the statement must create index " + name + " on " + table);
            }
            return outcome;
        });
    }

    /** Whether {@code schema.name} is a valid index; empty when there is none. */
    public static Optional<Boolean> validity(Connection c, String schema, String name) throws SQLException {
        return Optional.ofNullable(Sql.one(c, "SELECT i.indisvalid AND i.indisready FROM pg_index i "
                + "JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_namespace n ON n.oid = x.relnamespace "
                + "WHERE n.nspname = ? AND x.relname = ?", rs -> rs.getBoolean(1), schema, name));
    }

    /** Drops {@code schema.name} concurrently (autocommit connection). */
    public static void drop(Connection c, String schema, String name) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP INDEX CONCURRENTLY IF EXISTS " + Ident.qualified(schema, name));
        }
    }

    private static String schemaOf(Connection c, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname FROM pg_class t JOIN pg_namespace n "
                + "ON n.oid = t.relnamespace WHERE t.oid = to_regclass(?)")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new ShapeshiftException(ErrorCode.SPEC_INVALID, "index build: table " + table
                            + " does not exist");
                }
                return rs.getString(1);
            }
        }
    }

    private static String unquote(String ident) {
        if (ident.startsWith("\"")) {
            return ident.substring(1, ident.length() - 1).replace("\"\"", "\"");
        }
        return ident.toLowerCase(java.util.Locale.ROOT);
    }

    static String stripLeadingComments(String sql) {
        return sql.replaceFirst("^(\\s*(--[^\\n]*(\\n|$)|/\\*(?s:.*?)\\*/))*", "");
    }

    private static String firstWords(String sql) {
        String s = sql.strip().replaceAll("\\s+", " ");
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
