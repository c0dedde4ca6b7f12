package dev.shapeshift.spec;

import com.fasterxml.jackson.databind.JsonMappingException.Reference;
import java.util.List;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Finds where a field path is written in YAML text ({@code line:column}, 1-based), from the YAML
 * node tree: Jackson's own location points past the offending token, which reads wrongly.
 */
final class YamlLocator {
    private YamlLocator() {
    }

    /** {@code "12:3"} for the deepest node of the path that exists (a field: where its key is written), or empty. */
    static Optional<String> locate(String yaml, List<Reference> path) {
        return locate(yaml, path, false);
    }

    /** {@code "12:3"} where the value at the path is written (e.g. an empty value), or empty. */
    static Optional<String> locateValue(String yaml, List<Reference> path) {
        return locate(yaml, path, true);
    }

    private static Optional<String> locate(String yaml, List<Reference> path, boolean value) {
        try {
            Node node = new Yaml(new LoaderOptions()).compose(new java.io.StringReader(yaml));
            Mark mark = null;
            for (Reference r : path) {
                if (r.getFieldName() != null && node instanceof MappingNode m) {
                    NodeTuple t = find(m, r.getFieldName());
                    if (t == null) {
                        break;
                    }
                    mark = value ? t.getValueNode().getStartMark() : t.getKeyNode().getStartMark();
                    node = t.getValueNode();
                } else if (r.getFieldName() == null && node instanceof SequenceNode s && r.getIndex() >= 0
                        && r.getIndex() < s.getValue().size()) {
                    node = s.getValue().get(r.getIndex());
                    mark = node.getStartMark();
                } else {
                    break;
                }
            }
            return mark == null ? Optional.empty() : Optional.of((mark.getLine() + 1) + ":" + (mark.getColumn() + 1));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Where an explicit null ({@code key:} with nothing, {@code ~}, {@code null}, a bare {@code -}) is written. */
    record At(String path, String location) {
    }

    /**
     * Every explicit null, from the YAML node tree (Jackson's tree loses a bare {@code -} that ends
     * the file, so the YAML nodes are the authority here).
     */
    static List<At> nulls(String yaml) {
        List<At> found = new java.util.ArrayList<>();
        try {
            nulls(new Yaml(new LoaderOptions()).compose(new java.io.StringReader(yaml)), "", found);
        } catch (RuntimeException e) {
            // not YAML: the reader reports the syntax error
        }
        return found;
    }

    private static void nulls(Node node, String path, List<At> found) {
        if (node instanceof ScalarNode s && s.getTag().equals(Tag.NULL) && !path.isEmpty()) {
            Mark m = s.getStartMark();
            found.add(new At(path, (m.getLine() + 1) + ":" + (m.getColumn() + 1)));
        } else if (node instanceof MappingNode m) {
            for (NodeTuple t : m.getValue()) {
                String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "?";
                nulls(t.getValueNode(), path.isEmpty() ? key : path + "." + key, found);
            }
        } else if (node instanceof SequenceNode s) {
            for (int i = 0; i < s.getValue().size(); i++) {
                nulls(s.getValue().get(i), path + "[" + i + "]", found);
            }
        }
    }

    private static NodeTuple find(MappingNode m, String key) {
        for (NodeTuple t : m.getValue()) {
            if (t.getKeyNode() instanceof ScalarNode k && key.equals(k.getValue())) {
                return t;
            }
        }
        return null;
    }
}
