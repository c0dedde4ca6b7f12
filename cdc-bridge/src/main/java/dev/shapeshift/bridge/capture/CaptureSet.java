package dev.shapeshift.bridge.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.phase.Phase;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which migrations the bridge captures: those whose phase wants sync ({@code expanded} and every
 * phase with {@link Phase#syncActive()}), minus those the bridge stopped. Reads the source and the
 * transforms from the spec JSON in the catalog; a spec without explicit key columns gets the
 * table's primary key, in index order.
 */
public final class CaptureSet {
    private static final Logger log = LoggerFactory.getLogger(CaptureSet.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private CaptureSet() {
    }

    public static boolean wantsSync(Phase phase) {
        return phase == Phase.EXPANDED || phase.syncActive();
    }

    /** The sync targets among {@code migrations}, skipping the names in {@code stopped}. */
    public static List<SyncTarget> of(List<MigrationRecord> migrations, Set<String> stopped, Connection c) {
        List<SyncTarget> out = new ArrayList<>();
        for (MigrationRecord m : migrations) {
            if (!wantsSync(m.phase()) || stopped.contains(m.name())) {
                continue;
            }
            try {
                SyncTarget source = target(m, c);
                out.add(source);
                newShape(m, source).ifPresent(out::add);
            } catch (IOException | RuntimeException e) {
                log.error("cannot read the spec of a migration, not capturing it migration={} error={}",
                        m.name(), e.toString());
            }
        }
        return out;
    }

    /** The targets grouped by source table, in a stable order. */
    public static Map<TableId, List<SyncTarget>> byTable(List<SyncTarget> targets) {
        Map<TableId, List<SyncTarget>> out = new LinkedHashMap<>();
        for (SyncTarget t : targets) {
            out.computeIfAbsent(t.table(), k -> new ArrayList<>()).add(t);
        }
        return out;
    }

    static SyncTarget target(MigrationRecord m, Connection c) throws IOException {
        JsonNode spec = JSON.readTree(m.specJson());
        JsonNode source = spec.path("source");
        String schema = source.path("schema").asText("public");
        String table = source.path("table").asText(null);
        if (table == null || table.isEmpty()) {
            throw new IllegalArgumentException("spec has no source.table");
        }
        TableId id = new TableId(schema.isEmpty() ? "public" : schema, table);
        List<String> key = new ArrayList<>();
        source.path("key").forEach(k -> key.add(k.asText()));
        if (key.isEmpty()) {
            key.addAll(primaryKey(c, id));
        }
        List<String> transforms = new ArrayList<>();
        spec.path("target").path("columns").forEach(col -> {
            if (col.hasNonNull("transform")) {
                transforms.add(col.get("transform").asText());
            }
        });
        List<String> old = oldColumnsInPlace(spec, key);
        return new SyncTarget(m.name(), id, key, transforms, m.slotName(), m.startLsn(), false, old,
                old.isEmpty() ? Set.of() : withDefault(c, id, old));
    }

    /**
     * In place with a write switch: the old columns new code stops writing — those with a reverse
     * transform and those the contract drops, never key columns (as the coordinator's
     * {@code WriteSwitch.oldColumnsNewCodeStopsWriting}). Empty in every other case.
     */
    static List<String> oldColumnsInPlace(JsonNode spec, List<String> key) {
        String mode = spec.path("mode").asText("");
        if (!(mode.isEmpty() || "in-place".equals(mode)) || !spec.path("writes").path("switch").asBoolean(false)) {
            return List.of();
        }
        java.util.LinkedHashSet<String> out = new java.util.LinkedHashSet<>();
        spec.path("writes").path("reverse").fieldNames().forEachRemaining(out::add);
        spec.path("contract").path("dropColumns").forEach(col -> out.add(col.asText()));
        out.removeAll(key);
        return List.copyOf(out);
    }

    /** Those of {@code columns} that have a column default in the table. */
    static Set<String> withDefault(Connection c, TableId t, List<String> columns) {
        try (PreparedStatement ps = c.prepareStatement("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?) "
                + "AND attnum > 0 AND NOT attisdropped AND atthasdef AND attname = ANY (?)")) {
            ps.setString(1, t.sql());
            ps.setArray(2, c.createArrayOf("text", columns.toArray()));
            Set<String> out = new java.util.HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        } catch (SQLException e) {
            throw SqlStates.translate("reading the column defaults of " + t, e);
        }
    }

    /**
     * Table mode with a write switch: the target table, captured from the start of sync like the
     * source (so it is in the publication long before the write switch, and every write the
     * application makes to it is decoded), keyed by the same key columns. Workers mark their own
     * transactions (the echo), so only the application's writes reach the topic.
     */
    static java.util.Optional<SyncTarget> newShape(MigrationRecord m, SyncTarget source) throws IOException {
        JsonNode spec = JSON.readTree(m.specJson());
        boolean table = "table".equals(spec.path("mode").asText(""));
        if (!table || !spec.path("writes").path("switch").asBoolean(false)) {
            return java.util.Optional.empty();
        }
        JsonNode target = spec.path("target");
        String schema = target.path("schema").asText("");
        String name = target.path("table").asText("");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("table-mode spec has no target.table");
        }
        TableId id = new TableId(schema.isEmpty() ? source.table().schema() : schema, name);
        return java.util.Optional.of(new SyncTarget(m.name(), id, source.keyColumns(), List.of(), m.slotName(),
                m.startLsn(), true));
    }

    static List<String> primaryKey(Connection c, TableId t) {
        String sql = "SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                + "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                + "WHERE i.indrelid = to_regclass(?) AND i.indisprimary ORDER BY k.n";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, t.sql());
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            if (out.isEmpty()) {
                throw new IllegalArgumentException("table " + t + " has no primary key and the spec names no key");
            }
            return out;
        } catch (SQLException e) {
            throw SqlStates.translate("reading the primary key of " + t, e);
        }
    }
}
