package dev.shapeshift.bridge.capture;

import java.util.List;

/**
 * One migration that wants sync, as the bridge sees it: its source table, key columns (in key
 * order) and transform expressions (to tell which source columns it uses).
 *
 * @param slotName the slot recorded in the catalog for this migration (null before the first capture)
 * @param startLsn the LSN from which sync covers the table (null before the first capture)
 */
public record SyncTarget(String migration, TableId table, List<String> keyColumns, List<String> transforms,
                         String slotName, String startLsn) {
    public SyncTarget {
        keyColumns = List.copyOf(keyColumns);
        transforms = List.copyOf(transforms);
    }

    public boolean coveredBy(String slot) {
        return slot.equals(slotName) && startLsn != null;
    }
}
