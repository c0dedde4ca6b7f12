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
 */
public record SyncTarget(String migration, TableId table, List<String> keyColumns, List<String> transforms,
                         String slotName, String startLsn, boolean newShape) {
    public SyncTarget {
        keyColumns = List.copyOf(keyColumns);
        transforms = List.copyOf(transforms);
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
