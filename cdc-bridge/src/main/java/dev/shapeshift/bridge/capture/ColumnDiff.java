package dev.shapeshift.bridge.capture;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The pure part of DDL detection: which source columns a migration uses, and what changed about
 * them between the fingerprint taken at first capture and now. A column counts as used when it is
 * a key column or its name appears as a word in a transform (an over-approximation: a name inside
 * a string literal also counts, which can only stop a migration too eagerly, never too late).
 */
public final class ColumnDiff {
    private ColumnDiff() {
    }

    public static boolean used(String column, List<String> keyColumns, List<String> transforms) {
        if (keyColumns.contains(column)) {
            return true;
        }
        Pattern word = Pattern.compile("(?<![A-Za-z0-9_$])\"?" + Pattern.quote(column.toLowerCase(Locale.ROOT))
                + "\"?(?![A-Za-z0-9_$])");
        for (String t : transforms) {
            if (word.matcher(t.toLowerCase(Locale.ROOT)).find()) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param before column name → type when first captured
     * @param now    column name → type now (empty if the table is gone)
     * @return a description of the changes to used columns, or empty if none
     */
    public static Optional<String> changes(Map<String, String> before, Map<String, String> now,
                                           List<String> keyColumns, List<String> transforms) {
        if (now.isEmpty()) {
            return Optional.of("the source table was dropped or renamed");
        }
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> col : before.entrySet()) {
            if (!used(col.getKey(), keyColumns, transforms)) {
                continue;
            }
            String type = now.get(col.getKey());
            if (type == null) {
                out.add("column " + col.getKey() + " was dropped or renamed");
            } else if (!type.equals(col.getValue())) {
                out.add("column " + col.getKey() + " changed type from " + col.getValue() + " to " + type);
            }
        }
        return out.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", out));
    }
}
