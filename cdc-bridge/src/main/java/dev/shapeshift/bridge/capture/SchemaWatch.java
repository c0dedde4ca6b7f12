package dev.shapeshift.bridge.capture;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.db.Sql;
import dev.shapeshift.db.SqlStates;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * DDL detection. Logical decoding carries no DDL, so the bridge fingerprints each source table's
 * columns (name and {@code format_type}) when it first captures a migration, in
 * {@code shapeshift.bridge_capture} (a catalog table, created by {@code CatalogSchema.migrate}), and compares at start, periodically, and whenever Debezium's
 * row schema for the table changes. A change to a column the migration uses stops that
 * migration's sync; the stop is recorded in the same table so it survives restarts.
 */
public final class SchemaWatch {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SchemaWatch() {
    }

    /** Migrations the bridge stopped earlier (their source changed). */
    public static Set<String> stopped(Connection c) {
        Set<String> out = new HashSet<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT migration FROM shapeshift.bridge_capture WHERE stopped_at IS NOT NULL")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw SqlStates.translate("reading stopped migrations", e);
        }
        return out;
    }

    /**
     * Takes the fingerprint on first sight; afterwards compares against it.
     *
     * @return what changed about the columns the migration uses, or empty if nothing did
     */
    public static Optional<String> check(Connection c, SyncTarget t) {
        try {
            Map<String, String> now = columns(c, t.table());
            Optional<Map<String, String>> before = fingerprint(c, t.migration());
            if (before.isEmpty()) {
                Sql.update(c, "INSERT INTO shapeshift.bridge_capture "
                        + "(migration, source_table, columns) VALUES (?, ?, ?::jsonb) ON CONFLICT (migration) DO NOTHING",
                        t.migration(), t.table().toString(), JSON.writeValueAsString(now));
                return now.isEmpty() ? Optional.of("the source table " + t.table() + " does not exist") : Optional.empty();
            }
            return ColumnDiff.changes(before.get(), now, t.keyColumns(), t.transforms());
        } catch (SQLException e) {
            throw SqlStates.translate("checking the columns of " + t.table(), e);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void stop(Connection c, String migration, String reason) {
        try {
            Sql.update(c, "UPDATE shapeshift.bridge_capture SET stopped_at = now(), stop_reason = ? WHERE migration = ?",
                    reason, migration);
        } catch (SQLException e) {
            throw SqlStates.translate("recording the stop of " + migration, e);
        }
    }

    static Map<String, String> columns(Connection c, TableId t) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        Sql.each(c, "SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
                + "FROM pg_attribute a WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped "
                + "ORDER BY a.attnum", rs -> {
                out.put(rs.getString(1), rs.getString(2));
            }, t.sql());
        return out;
    }

    private static Optional<Map<String, String>> fingerprint(Connection c, String migration)
            throws SQLException, JsonProcessingException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT columns::text FROM shapeshift.bridge_capture WHERE migration = ?")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(JSON.readValue(rs.getString(1), new TypeReference<LinkedHashMap<String, String>>() {
                }));
            }
        }
    }
}
