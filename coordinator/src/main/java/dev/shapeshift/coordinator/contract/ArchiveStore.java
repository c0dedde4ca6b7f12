package dev.shapeshift.coordinator.contract;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.coordinator.contract.Archive.ArchivedColumn;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The catalog table {@code shapeshift.contract_archive}: one row a contracted migration, written by
 * the contract ({@link Contractor}), its restore checkpoint by {@link Restore}, and its end (restored,
 * dropped). Every statement on that table is here, each in the caller's transaction.
 */
final class ArchiveStore {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ArchiveStore() {
    }

    /** Where a restore's refill stands: after which key (null: from the start), and rows so far. */
    record Checkpoint(List<String> after, long rows) {
    }

    static Optional<Archive> read(Connection c, String migration) throws SQLException {
        return Optional.ofNullable(Sql.one(c, "SELECT migration, mode, archive_table, source_schema, "
                + "source_table, key_columns::text, columns::text, archived_at, retain_until, restored_at, dropped_at, "
                + "dropped_by, structure::text, restore_started_at, restore_rows FROM shapeshift.contract_archive "
                + "WHERE migration = ?",
                rs -> new Archive(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), json(rs.getString(6), new TypeReference<List<String>>() { }),
                        json(rs.getString(7), new TypeReference<List<ArchivedColumn>>() { }), instant(rs, 8),
                        instant(rs, 9), instant(rs, 10), instant(rs, 11), rs.getString(12),
                        json(rs.getString(13), new TypeReference<List<Archive.ArchivedStructure>>() { }),
                        instant(rs, 14), rs.getLong(15)),
                migration));
    }

    /** The contract's row: where the old shape went, its key, its columns and structure, kept for the retention. */
    static void insert(Connection c, OldShape shape, List<String> key, List<ArchivedColumn> columns,
                       List<Archive.ArchivedStructure> structure) throws SQLException {
        Duration retention = shape.retention();
        Sql.update(c, "INSERT INTO shapeshift.contract_archive (migration, mode, "
                + "archive_table, source_schema, source_table, key_columns, columns, retain_until, structure) "
                + "VALUES (?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, now() + ?::interval, ?::jsonb)",
                shape.migration(), shape.inPlace() ? "in-place" : "table", shape.migration(), shape.schema(),
                shape.table(), write(key), write(columns), retention.toSeconds() + " seconds", write(structure));
    }

    static void restoreStarted(Connection c, String migration) throws SQLException {
        Sql.update(c, "UPDATE shapeshift.contract_archive SET restore_started_at = coalesce(restore_started_at, now()) "
                + "WHERE migration = ?", migration);
    }

    /** The refill's checkpoint, row-locked for the chunk that moves it. */
    static Checkpoint restoreCheckpoint(Connection c, String migration) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT restore_after::text, restore_rows FROM "
                + "shapeshift.contract_archive WHERE migration = ? FOR UPDATE")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                String after = rs.getString(1);
                return new Checkpoint(after == null ? null : json(after, new TypeReference<List<String>>() { }),
                        rs.getLong(2));
            }
        }
    }

    /** Moves the refill's checkpoint to {@code lastKey} (a JSON array of text) after {@code rows} more rows. */
    static void restoreCheckpoint(Connection c, String migration, String lastKey, long rows) throws SQLException {
        Sql.update(c, "UPDATE shapeshift.contract_archive SET restore_after = "
                + "?::jsonb, restore_rows = restore_rows + ? WHERE migration = ?", lastKey, rows, migration);
    }

    static void restored(Connection c, String migration) throws SQLException {
        Sql.update(c, "UPDATE shapeshift.contract_archive SET restored_at = now() WHERE migration = ?", migration);
    }

    static void dropped(Connection c, String migration, String actor) throws SQLException {
        Sql.update(c, "UPDATE shapeshift.contract_archive SET dropped_at = now(), "
                + "dropped_by = ? WHERE migration = ?", actor, migration);
    }

    private static String write(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T> T json(String json, TypeReference<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new ShapeshiftException(ErrorCode.INTERNAL, "unreadable contract_archive row: " + e.getMessage(), e);
        }
    }

    private static Instant instant(ResultSet rs, int i) throws SQLException {
        Timestamp ts = rs.getTimestamp(i);
        return ts == null ? null : ts.toInstant();
    }
}
