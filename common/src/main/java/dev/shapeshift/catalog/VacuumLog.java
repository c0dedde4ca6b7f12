package dev.shapeshift.catalog;

import dev.shapeshift.db.Sql;

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
            return Sql.update(c, "INSERT INTO shapeshift.backfill_vacuum (migration, mark, "
                    + "runner, table_bytes_before, index_bytes_before) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    migration, mark, runner, tableBytes, indexBytes) == 1;
        });
    }

    public void vacuumFinished(String migration, int mark, long tableBytes, long indexBytes) {
        catalog.inTransaction("recording vacuum " + mark + " of " + migration, c -> {
            return Sql.update(c, "UPDATE shapeshift.backfill_vacuum SET finished_at = now(), "
                    + "table_bytes_after = ?, index_bytes_after = ? WHERE migration = ? AND mark = ?",
                    tableBytes, indexBytes, migration, mark);
        });
    }
}
