package dev.shapeshift.catalog;

import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Registering a name again. The previous run keeps its whole history under a retired name,
 * {@code <name>~<generation>} ('~' is never part of a migration name, so it cannot collide): its
 * migration row is renamed, and every catalog row that belongs to it follows (foreign keys
 * {@code ON UPDATE CASCADE}, plus its audit and {@code bridge_capture} rows). Only safe when:
 * <ul>
 *   <li>the run is finished: {@code contracted} or {@code rolled-back};</li>
 *   <li>cleanup ran to the end ({@code cleaned_up_at}): its Kafka topics and consumer groups are gone,
 *       so the new run's topics ({@code shapeshift.<name>.changes}/{@code .chunks}, same names) start empty
 *       and its groups start without the old offsets;</li>
 *   <li>no archive of the old shape is kept under the name ({@code shapeshift_archive.<name>}): a second
 *       contract would need that table name.</li>
 * </ul>
 * Otherwise it refuses with CONFLICT and names the command that makes it safe.
 */
final class NameReuse {

    record Retired(String retiredName, int generation) {
    }

    private NameReuse() {
    }

    /** The old run's row, locked: its phase, generation and whether its clean-up finished. */
    private record OldRun(Phase phase, int generation, boolean cleaned) {
    }

    static Retired retire(Connection c, String name, String actor) throws SQLException {
        OldRun old = Sql.one(c, "SELECT phase, generation, cleaned_up_at IS NOT NULL "
                + "FROM shapeshift.migration WHERE name = ? FOR UPDATE",
                rs -> new OldRun(Phase.fromLabel(rs.getString(1)), rs.getInt(2), rs.getBoolean(3)), name);
        if (old == null) {
            throw new ShapeshiftException(ErrorCode.CONFLICT, "migration " + name + " changed concurrently; retry");
        }
        Phase phase = old.phase();
        int generation = old.generation();
        boolean cleaned = old.cleaned();
        if (!phase.terminal()) {
            throw new ShapeshiftException(ErrorCode.CONFLICT, "a migration named '" + name + "' already exists and is "
                    + "active (phase " + phase + "); finish it or roll it back (`shapeshift rollback " + name
                    + " --reason …`), run `shapeshift cleanup " + name + "`, then register the name again, or pick another name");
        }
        if (!cleaned) {
            throw new ShapeshiftException(ErrorCode.CONFLICT, "a migration named '" + name + "' already exists (phase "
                    + phase + ") and is not cleaned up: its Kafka topics or consumer groups may still hold the old run's "
                    + "records. Run `shapeshift cleanup " + name + " --reason …` with Kafka reachable until it reports "
                    + "the topics and groups gone, then register the name again");
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT archive_table, retain_until FROM shapeshift.contract_archive "
                + "WHERE migration = ? AND dropped_at IS NULL AND restored_at IS NULL")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    throw new ShapeshiftException(ErrorCode.CONFLICT, "the name '" + name + "' still holds the old "
                            + "shape's archive shapeshift_archive." + rs.getString(1) + " (retained until "
                            + rs.getTimestamp(2).toInstant() + "); a new run's contract would need that table name. Drop it "
                            + "with `shapeshift contract drop-archive " + name + "` (before the retention ends: --force "
                            + "--reason …), or pick another name");
                }
            }
        }
        String retired = name + "~" + generation;
        update(c, "UPDATE shapeshift.migration SET name = ?, retired_from = ? WHERE name = ?", retired, name, name);
        update(c, "UPDATE shapeshift.audit SET migration = ? WHERE migration = ?", retired, name);
        update(c, "UPDATE shapeshift.bridge_capture SET migration = ? WHERE migration = ?", retired, name);
        Catalog.audit(c, retired, actor, "retire", phase, phase, "name '" + name + "' registered again; this run is kept as "
                + retired);
        return new Retired(retired, generation);
    }

    private static void update(Connection c, String sql, String... values) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                ps.setString(i + 1, values[i]);
            }
            ps.executeUpdate();
        }
    }
}
