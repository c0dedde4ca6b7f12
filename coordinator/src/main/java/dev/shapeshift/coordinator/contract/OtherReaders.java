package dev.shapeshift.coordinator.contract;

import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.TargetColumn;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Another live migration that still reads what this contract drops: its source is the same table
 * and a dropped column appears in its key, a transform or a reverse transform (in place), or its
 * source is the table the contract drops (table mode). Dropping it would break that migration's
 * sync, backfill and reconcile for good (e.g. a sink migration that seeds a translation service from
 * {@code menu_items.label} while another migration drops {@code label}). The {@code contracted}
 * gate stays closed until that migration is contracted or rolled back. The match is by identifier
 * in the expression text, so a column named only inside a string literal also counts: the safe side.
 */
public final class OtherReaders {
    private OtherReaders() {
    }

    /** The {@code other-migrations} check of the contract gate, from every migration in the catalog. */
    public static Check check(OldShape shape, List<MigrationRecord> all) {
        List<String> readers = readers(shape, all);
        if (!shape.dropsSomething()) {
            return Check.pass("other-migrations", "the contract drops nothing");
        }
        if (readers.isEmpty()) {
            return Check.pass("other-migrations", "no other live migration reads " + shape.describe());
        }
        return Check.fail("other-migrations", String.join("; ", readers) + ": contract or roll back "
                + (readers.size() == 1 ? "that migration" : "those migrations") + " first");
    }

    static List<String> readers(OldShape shape, List<MigrationRecord> all) {
        List<String> out = new ArrayList<>();
        if (!shape.dropsSomething()) {
            return out;
        }
        for (MigrationRecord m : all) {
            if (m.name().equals(shape.migration()) || m.phase() == Phase.CONTRACTED || m.phase() == Phase.ROLLED_BACK) {
                continue;
            }
            MigrationSpec s;
            try {
                s = SpecJson.read(m.specJson());
            } catch (RuntimeException e) {
                out.add("migration " + m.name() + " (its stored spec is unreadable: " + e.getMessage() + ")");
                continue;
            }
            if (s.source() == null || !same(s.source().schema(), shape.schema()) || !same(s.source().table(), shape.table())) {
                continue;
            }
            if (!shape.inPlace()) {
                out.add("migration " + m.name() + " (" + m.phase() + ") reads " + shape.schema() + "." + shape.table()
                        + " as its source");
                continue;
            }
            for (String col : shape.dropColumns()) {
                String where = where(s, col);
                if (where != null) {
                    out.add("migration " + m.name() + " (" + m.phase() + ") reads " + shape.table() + "." + col + " in " + where);
                }
            }
        }
        return out;
    }

    private static String where(MigrationSpec s, String col) {
        if (s.source().key().stream().anyMatch(k -> k.equalsIgnoreCase(col))) {
            return "its key";
        }
        Pattern p = Pattern.compile("(?i)(?<![A-Za-z0-9_$])\"?" + Pattern.quote(col) + "\"?(?![A-Za-z0-9_$])");
        if (s.target() != null) {
            for (TargetColumn t : s.target().columns()) {
                if (t.transform() != null && p.matcher(t.transform()).find()) {
                    return "the transform of " + t.name();
                }
            }
        }
        if (s.writes() != null) {
            for (var e : s.writes().reverse().entrySet()) {
                if (e.getValue() != null && p.matcher(e.getValue()).find()) {
                    return "the reverse transform of " + e.getKey();
                }
            }
        }
        return null;
    }

    private static boolean same(String a, String b) {
        return a != null && b != null && a.toLowerCase(Locale.ROOT).equals(b.toLowerCase(Locale.ROOT));
    }
}
