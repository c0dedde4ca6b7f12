package dev.shapeshift.catalog;

import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.catalog.ChunkStore.PlanInfo;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Optional;

/**
 * A migration's backfill plan: its chunks' bounds ({@code shapeshift.chunk}, stored once) and how
 * the plan was made ({@code shapeshift.backfill_plan}). The chunks' leases and checkpoints are
 * {@link ChunkStore}'s.
 */
public final class PlanStore {
    private final Catalog catalog;

    public PlanStore(Catalog catalog) {
        this.catalog = catalog;
    }

    /**
     * Stores a plan whose chunk i is (boundaries[i-1], boundaries[i]], the first open below and the
     * last open above — unless the migration already has one: then the stored plan is returned
     * untouched. Concurrent planners are serialised on the migration row.
     */
    public List<Chunk> storePlan(String migration, List<Key> boundaries, PlanInfo info) {
        return catalog.inTransaction("storing chunk plan of " + migration, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT 1 FROM shapeshift.migration WHERE name = ? FOR UPDATE")) {
                ps.setString(1, migration);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ShapeshiftException(ErrorCode.NOT_FOUND, "no migration named '" + migration + "'");
                    }
                }
            }
            List<Chunk> existing = ChunkStore.chunks(c, migration);
            if (!existing.isEmpty()) {
                return existing;
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.chunk (migration, chunk_no, "
                    + "lower_key, upper_key) VALUES (?, ?, ?::jsonb, ?::jsonb)")) {
                for (int i = 0; i <= boundaries.size(); i++) {
                    ps.setString(1, migration);
                    ps.setInt(2, i);
                    ps.setString(3, i == 0 ? null : ChunkStore.json(boundaries.get(i - 1)));
                    ps.setString(4, i == boundaries.size() ? null : ChunkStore.json(boundaries.get(i)));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            Sql.update(c, "INSERT INTO shapeshift.backfill_plan (migration, method, "
                    + "estimated_rows, chunk_rows, table_bytes, index_bytes) VALUES (?, ?, ?, ?, ?, ?)",
                    migration, info.method(), info.estimatedRows(), info.chunkRows(), info.tableBytes(),
                    info.indexBytes());
            Catalog.audit(c, migration, "coordinator", "backfill planned: " + (boundaries.size() + 1) + " chunks by "
                    + info.method(), null, null, null);
            return ChunkStore.chunks(c, migration);
        });
    }

    public Optional<PlanInfo> planInfo(String migration) {
        return catalog.inTransaction("reading plan of " + migration, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT method, estimated_rows, chunk_rows, table_bytes, "
                    + "index_bytes FROM shapeshift.backfill_plan WHERE migration = ?")) {
                ps.setString(1, migration);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new PlanInfo(rs.getString(1), rs.getLong(2), rs.getInt(3),
                            rs.getLong(4), rs.getLong(5))) : Optional.<PlanInfo>empty();
                }
            }
        });
    }
}
