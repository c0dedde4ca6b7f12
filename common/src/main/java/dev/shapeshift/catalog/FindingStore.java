package dev.shapeshift.catalog;

import dev.shapeshift.db.Sql;
import dev.shapeshift.db.SqlStates;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Rows that violate the structure the new shape ends with ({@code shapeshift.finding}), found
 * before it is enforced (docs/constraints.md). A pass over one item replaces that item's findings.
 */
public final class FindingStore {
    /** At most this many findings are stored per item and pass; {@code total} says how many there were. */
    public static final int KEPT = 100;

    /**
     * @param item   the staged item, e.g. {@code unique index menu_items_translate_key_key}
     * @param kind   duplicate, null, check or orphan
     * @param key    the key (JSON array of the key columns' text forms); for a duplicate, the array of the group's keys
     * @param detail e.g. the duplicated value, the missing referenced value
     * @param total  how many violating rows (duplicate groups) the pass found
     */
    public record Finding(String item, String kind, String key, String detail, long total, Instant foundAt) {
    }

    private final Catalog catalog;

    public FindingStore(Catalog catalog) {
        this.catalog = catalog;
    }

    /** Replaces the findings of {@code item} with {@code found} (empty: the item is clean). */
    public void replace(String migration, String item, List<Finding> found) {
        catalog.inTransaction("storing the findings of " + item + " for " + migration, c -> {
            Sql.update(c, "DELETE FROM shapeshift.finding WHERE migration = ? "
                    + "AND item = ?", migration, item);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.finding (migration, item, kind, "
                    + "key, detail, total) VALUES (?, ?, ?, ?::jsonb, ?, ?) ON CONFLICT DO NOTHING")) {
                for (Finding f : found.subList(0, Math.min(found.size(), KEPT))) {
                    ps.setString(1, migration);
                    ps.setString(2, item);
                    ps.setString(3, f.kind());
                    ps.setString(4, f.key());
                    ps.setString(5, f.detail());
                    ps.setLong(6, f.total());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    public List<Finding> list(String migration) {
        try (Connection c = catalog.connect()) {
            return list(c, migration);
        } catch (SQLException e) {
            throw SqlStates.translate("reading the findings of " + migration, e);
        }
    }

    public static List<Finding> list(Connection c, String migration) throws SQLException {
        List<Finding> out = new ArrayList<>();
        Sql.each(c, "SELECT item, kind, key::text, detail, total, found_at "
                + "FROM shapeshift.finding WHERE migration = ? ORDER BY item, key", rs -> {
                Timestamp at = rs.getTimestamp(6);
                out.add(new Finding(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getLong(5), at == null ? null : at.toInstant()));
            }, migration);
        return out;
    }

    /** One line per item with findings: {@code unique index x: 3 duplicate(s), e.g. [["1"],["7"]] (value …)}. */
    public static String summary(List<Finding> findings) {
        StringBuilder sb = new StringBuilder();
        String item = null;
        for (Finding f : findings) {
            if (f.item().equals(item)) {
                continue;
            }
            item = f.item();
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(f.item()).append(": ").append(f.total()).append(' ').append(f.kind())
                    .append(f.total() == 1 ? "" : "s").append(", e.g. key ").append(f.key())
                    .append(f.detail() == null ? "" : " (" + f.detail() + ")");
        }
        return sb.toString();
    }
}
