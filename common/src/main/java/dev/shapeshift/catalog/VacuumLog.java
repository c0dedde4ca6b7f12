package dev.shapeshift.catalog;

import java.sql.PreparedStatement;

/**
 * The in-place backfill's VACUUM log ({@code shapeshift.backfill_vacuum}): one row per mark of the
 * bloat guard, claimed by exactly one worker, with the table's and indexes' sizes before and after.
 */
public final class VacuumLog {
    private final Catalog catalog;

    public VacuumLog(Catalog catalog) {
        this.catalog = catalog;
    }

    /** Claims the VACUUM of one mark; true for exactly one caller per (migration, mark). */
    public boolean claimVacuum(String migration, int mark, String runner, long tableBytes, long indexBytes) {
        return catalog.inTransaction("claiming vacuum " + mark + " of " + migration, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.backfill_vacuum (migration, mark, "
                    + "runner, table_bytes_before, index_bytes_before) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                ps.setString(1, migration);
                ps.setInt(2, mark);
                ps.setString(3, runner);
                ps.setLong(4, tableBytes);
                ps.setLong(5, indexBytes);
                return ps.executeUpdate() == 1;
            }
        });
    }

    public void vacuumFinished(String migration, int mark, long tableBytes, long indexBytes) {
        catalog.inTransaction("recording vacuum " + mark + " of " + migration, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE shapeshift.backfill_vacuum SET finished_at = now(), "
                    + "table_bytes_after = ?, index_bytes_after = ? WHERE migration = ? AND mark = ?")) {
                ps.setLong(1, tableBytes);
                ps.setLong(2, indexBytes);
                ps.setString(3, migration);
                ps.setInt(4, mark);
                return ps.executeUpdate();
            }
        });
    }
}
