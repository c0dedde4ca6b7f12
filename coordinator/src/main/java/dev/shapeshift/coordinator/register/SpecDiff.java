package dev.shapeshift.coordinator.register;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Which fields of two specs differ, by spec path ({@code target.columns[0].transform}). Both sides
 * go through the spec records first, so defaults written out or left implicit compare equal.
 */
final class SpecDiff {
    /** The spec fields that are live knobs: a change becomes the catalog setting, not a spec change. */
    static final Map<String, String> LIVE_KNOBS = Map.of("backfill.maxRowsPerSecond", dev.shapeshift.catalog.Knob.MAX_ROWS_PER_SECOND.key());

    private static final ObjectMapper TREES = new ObjectMapper();

    /** One differing field: its path and both values as JSON text ("(none)" when absent). */
    record Difference(String path, String was, String now) {
        boolean liveKnob() {
            return LIVE_KNOBS.containsKey(path);
        }

        String describe() {
            return path + " (" + was + " → " + now + ")";
        }
    }

    private SpecDiff() {
    }

    static List<Difference> between(MigrationSpec stored, MigrationSpec given) {
        List<Difference> out = new ArrayList<>();
        walk("", tree(stored), tree(given), out);
        return out;
    }

    private static JsonNode tree(MigrationSpec spec) {
        try {
            return TREES.readTree(SpecJson.write(spec));
        } catch (IOException e) {
            throw new IllegalStateException("spec JSON written by SpecJson is not JSON", e);
        }
    }

    private static void walk(String path, JsonNode a, JsonNode b, List<Difference> out) {
        if (a.equals(b)) {
            return;
        }
        if (a.isObject() && b.isObject()) {
            TreeSet<String> names = new TreeSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                walk(path.isEmpty() ? n : path + "." + n, a.path(n), b.path(n), out);
            }
        } else if (a.isArray() && b.isArray()) {
            int common = Math.min(a.size(), b.size());
            for (int i = 0; i < common; i++) {
                walk(path + "[" + i + "]", a.get(i), b.get(i), out);
            }
            for (int i = common; i < Math.max(a.size(), b.size()); i++) {
                walk(path + "[" + i + "]", i < a.size() ? a.get(i) : MissingNode.getInstance(),
                        i < b.size() ? b.get(i) : MissingNode.getInstance(), out);
            }
        } else if (!(absent(a) && absent(b))) {
            out.add(new Difference(path, text(a), text(b)));
        }
    }

    private static boolean absent(JsonNode n) {
        return n.isMissingNode() || n.isNull();
    }

    private static String text(JsonNode n) {
        if (absent(n)) {
            return "(none)";
        }
        String s = n.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    static boolean onlyLiveKnobs(List<Difference> diffs) {
        Iterator<Difference> it = diffs.iterator();
        boolean any = false;
        while (it.hasNext()) {
            if (!it.next().liveKnob()) {
                return false;
            }
            any = true;
        }
        return any;
    }
}
