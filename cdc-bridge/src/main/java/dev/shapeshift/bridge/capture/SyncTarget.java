package dev.shapeshift.bridge.capture;

import java.util.List;

/**
 * One table a migration wants captured, as the bridge sees it: its source table, key columns (in
 * key order) and transform expressions (to tell which source columns it uses). A table-mode
 * migration with a write switch has a second one for its target table ({@code newShape}): after
 * the write switch the application writes there, and the reverse sync needs the keys it writes.
 *
 * @param slotName the slot recorded in the catalog for this migration (null before the first capture)
 * @param startLsn the LSN from which sync covers the table (null before the first capture)
 * @param newShape whether this is the migration's target table (table mode, write switch), not its source
 * @param oldColumns in place with a write switch: the old columns new code stops writing (those with a
 *                   reverse transform and those the contract drops, never key columns); a change that
 *                   writes one of them is an old-shape write (docs/phases.md, "Old-shape writes after the
 *                   switch"). Empty otherwise
 * @param oldColumnsWithDefault those of {@code oldColumns} that have a column default: an insert that leaves
 *                   such a column out still gives it a value
 */
public record SyncTarget(String migration, TableId table, List<String> keyColumns, List<String> transforms,
                         String slotName, String startLsn, boolean newShape, List<String> oldColumns,
                         java.util.Set<String> oldColumnsWithDefault) {
    public SyncTarget {
        keyColumns = List.copyOf(keyColumns);
        transforms = List.copyOf(transforms);
        oldColumns = List.copyOf(oldColumns);
        oldColumnsWithDefault = java.util.Set.copyOf(oldColumnsWithDefault);
    }

    public SyncTarget(String migration, TableId table, List<String> keyColumns, List<String> transforms,
                      String slotName, String startLsn, boolean newShape) {
        this(migration, table, keyColumns, transforms, slotName, startLsn, newShape, List.of(), java.util.Set.of());
    }

    /** The migration's source table. */
    public SyncTarget(String migration, TableId table, List<String> keyColumns, List<String> transforms,
                      String slotName, String startLsn) {
        this(migration, table, keyColumns, transforms, slotName, startLsn, false);
    }

    public boolean coveredBy(String slot) {
        return slot.equals(slotName) && startLsn != null;
    }
}
