package dev.shapeshift.catalog;

import dev.shapeshift.db.Sql;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.spec.Labelled;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Confirmed drift ({@code shapeshift.drift}): keys where target ≠ transform(source) after the sync
 * had caught up past the moment of the check (docs/reconcile.md). One row per key and migration;
 * a key seen again updates {@code last_seen}; a key that agrees again gets {@code resolved_at}, and
 * drifting once more re-opens it with a new {@code first_seen}. Keys are JSON arrays of the key
 * columns' text forms, as everywhere in the catalog; pages are in {@code jsonb} order, not key order.
 */
public final class DriftStore {

    /** What is wrong with a key. */
    public enum Kind implements Labelled {
        /** The source row exists, the target row does not (table mode). */
        MISSING,
        /** The target row exists, the source row does not (table mode). */
        EXTRA,
        /** Both exist and the target's values differ from transform(source). */
        DIFFERENT;

        public static Kind fromLabel(String label) {
            return Labelled.parse(Kind.class, "drift kind", label);
        }
    }

    /** One row of {@code shapeshift.drift}; {@code resolvedAt} null while open. */
    public record Drift(Key key, Kind kind, Long runId, Instant firstSeen, Instant lastSeen, Instant resolvedAt) {
        public boolean open() {
            return resolvedAt == null;
        }
    }

    private final Catalog catalog;

    public DriftStore(Catalog catalog) {
        this.catalog = catalog;
    }

    /** Records (or re-confirms) drift of one key, in the caller's transaction. */
    public void record(Connection c, String migration, long runId, Key key, Kind kind) throws SQLException {
        Sql.update(c, "INSERT INTO shapeshift.drift (migration, key, kind, run_id) "
                + "VALUES (?, ?::jsonb, ?, ?) ON CONFLICT (migration, key) DO UPDATE SET kind = EXCLUDED.kind, "
                + "run_id = EXCLUDED.run_id, last_seen = now(), "
                + "first_seen = CASE WHEN drift.resolved_at IS NULL THEN drift.first_seen ELSE now() END, "
                + "resolved_at = NULL", migration, ChunkStore.json(key), kind.label(), runId);
    }

    /** Marks these keys' open drift resolved (they agree now), in the caller's transaction; returns rows resolved. */
    public int resolve(Connection c, String migration, Collection<Key> keys) throws SQLException {
        if (keys.isEmpty()) {
            return 0;
        }
        return Sql.update(c, "UPDATE shapeshift.drift SET resolved_at = now() "
                + "WHERE migration = ? AND resolved_at IS NULL AND key IN (SELECT k::jsonb FROM unnest(?::text[]) k)",
                migration, c.createArrayOf("text", keys.stream().map(ChunkStore::json).toArray()));
    }

    public int resolve(String migration, Collection<Key> keys) {
        return catalog.inTransaction("resolving drift of " + migration, c -> resolve(c, migration, keys));
    }

    /**
     * Resolves open drift that a complete pass did not see again: rows last seen before
     * {@code passStart} whose key is not waiting for a re-check. In the caller's transaction.
     */
    public int resolveNotSeenSince(Connection c, String migration, Instant passStart) throws SQLException {
        return Sql.update(c, "UPDATE shapeshift.drift d SET resolved_at = now() "
                + "WHERE d.migration = ? AND d.resolved_at IS NULL AND d.last_seen < ? AND NOT EXISTS "
                + "(SELECT 1 FROM shapeshift.reconcile_suspect s WHERE s.migration = d.migration AND s.key = d.key)",
                migration, passStart);
    }

    /** Up to {@code limit} open drift rows with a key after {@code afterKey} (null: from the first), in jsonb key order. */
    public List<Drift> page(String migration, Key afterKey, int limit) {
        return page(migration, afterKey, limit, false);
    }

    /** Like {@link #page(String, Key, int)}; with {@code includeResolved} also resolved rows. */
    public List<Drift> page(String migration, Key afterKey, int limit, boolean includeResolved) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive, got " + limit);
        }
        return catalog.inTransaction("reading drift of " + migration, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT key::text, kind, run_id, first_seen, last_seen, "
                    + "resolved_at FROM shapeshift.drift WHERE migration = ? AND (? OR resolved_at IS NULL) "
                    + "AND (?::jsonb IS NULL OR key > ?::jsonb) ORDER BY key LIMIT ?")) {
                String after = afterKey == null ? null : ChunkStore.json(afterKey);
                ps.setString(1, migration);
                ps.setBoolean(2, includeResolved);
                ps.setString(3, after);
                ps.setString(4, after);
                ps.setInt(5, limit);
                List<Drift> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long run = rs.getLong(3);
                        Long runId = rs.wasNull() ? null : run;
                        out.add(new Drift(ChunkStore.key(rs.getString(1)), Kind.fromLabel(rs.getString(2)),
                                runId, instant(rs.getTimestamp(4)), instant(rs.getTimestamp(5)),
                                instant(rs.getTimestamp(6))));
                    }
                }
                return out;
            }
        });
    }

    /** Open drift rows by kind (every kind present, zero when none). */
    public Map<Kind, Long> openCounts(String migration) {
        return catalog.inTransaction("counting drift of " + migration, c -> {
            Map<Kind, Long> out = new EnumMap<>(Kind.class);
            for (Kind k : Kind.values()) {
                out.put(k, 0L);
            }
            Sql.each(c, "SELECT kind, count(*) FROM shapeshift.drift "
                    + "WHERE migration = ? AND resolved_at IS NULL GROUP BY kind", rs -> {
                    out.put(Kind.fromLabel(rs.getString(1)), rs.getLong(2));
                }, migration);
            return out;
        });
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
