package dev.shapeshift.coordinator.status;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.gate.ReconcileRun;
import dev.shapeshift.db.SqlStates;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The reconciler's results, read from {@code shapeshift.drift} and {@code shapeshift.reconcile_run}
 * directly (the reconciler writes them; this side only reads).
 */
public final class ReconcileResults {
    /** One drift row. {@code key} is the stored JSON array of the key columns' text forms. */
    public record DriftRow(String key, String kind, Long runId, Instant firstSeen, Instant lastSeen, Instant resolvedAt) {
    }

    /** A page of drift rows in key order; pass {@code next} as {@code after} for the next page (null: last page). */
    public record DriftPage(List<DriftRow> items, String next) {
    }

    private final Catalog catalog;

    public ReconcileResults(Catalog catalog) {
        this.catalog = catalog;
    }

    /**
     * @param after    a stored key (JSON array text) to start after; null from the first
     * @param openOnly only rows not resolved
     */
    public DriftPage drift(String migration, String after, int limit, boolean openOnly) {
        try (Connection c = catalog.connect();
             PreparedStatement ps = c.prepareStatement("SELECT key::text, kind, run_id, first_seen, last_seen, resolved_at "
                     + "FROM shapeshift.drift WHERE migration = ? AND (?::jsonb IS NULL OR key > ?::jsonb) "
                     + (openOnly ? "AND resolved_at IS NULL " : "") + "ORDER BY key LIMIT ?")) {
            ps.setString(1, migration);
            ps.setString(2, after);
            ps.setString(3, after);
            ps.setInt(4, limit + 1);
            List<DriftRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long run = rs.getLong(3);
                    rows.add(new DriftRow(rs.getString(1), rs.getString(2), rs.wasNull() ? null : run,
                            instant(rs.getTimestamp(4)), instant(rs.getTimestamp(5)), instant(rs.getTimestamp(6))));
                }
            }
            boolean more = rows.size() > limit;
            List<DriftRow> page = more ? rows.subList(0, limit) : rows;
            return new DriftPage(List.copyOf(page), more ? page.get(page.size() - 1).key() : null);
        } catch (SQLException e) {
            throw SqlStates.translate("reading drift of " + migration, e);
        }
    }

    /** The latest runs first. */
    public List<ReconcileRun> runs(String migration, int limit) {
        try (Connection c = catalog.connect();
             PreparedStatement ps = c.prepareStatement("SELECT id, status, started_at, finished_at, rows_checked, "
                     + "drift_found, message FROM shapeshift.reconcile_run WHERE migration = ? ORDER BY id DESC LIMIT ?")) {
            ps.setString(1, migration);
            ps.setInt(2, limit);
            List<ReconcileRun> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new ReconcileRun(rs.getLong(1), rs.getString(2), instant(rs.getTimestamp(3)),
                            instant(rs.getTimestamp(4)), rs.getLong(5), rs.getLong(6), rs.getString(7)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw SqlStates.translate("reading reconcile runs of " + migration, e);
        }
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
