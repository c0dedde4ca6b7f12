package dev.shapeshift.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/spec.md equal to the spec records: every YAML field path is documented with its type
 * and its compact-constructor default, and nothing else is documented.
 */
class SpecDocsTest {
    private static final Path DOC = Path.of("..", "docs", "spec.md");
    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| (.+?) \\| (.+?) \\| .*\\|$");
    private static final Pattern LITERAL = Pattern.compile("^`([^`]*)`");

    /** A documented or actual field: type text and default (null: no literal default). */
    record Field(String type, String defaultValue) {
    }

    @Test
    void everyFieldIsDocumentedWithItsTypeAndDefault() throws Exception {
        Map<String, Field> actual = new LinkedHashMap<>();
        walk(MigrationSpec.class, "", actual);
        Map<String, Field> documented = documented();
        assertThat(documented.keySet()).as("fields documented in docs/spec.md").containsExactlyInAnyOrderElementsOf(actual.keySet());
        for (Map.Entry<String, Field> e : actual.entrySet()) {
            assertThat(documented.get(e.getKey())).as("docs/spec.md row for %s", e.getKey()).isEqualTo(e.getValue());
        }
    }

    @Test
    void theFullExampleReadsAndPassesStaticChecks() throws IOException {
        String doc = Files.readString(DOC);
        Matcher m = Pattern.compile("## Full example.*?```yaml\\n(.*?)```", Pattern.DOTALL).matcher(doc);
        assertThat(m.find()).isTrue();
        MigrationSpec spec = new SpecReader().read("spec.md", m.group(1));
        assertThat(SpecValidator.checkStatic(spec)).isEmpty();
        assertThat(spec.mode()).isEqualTo(Mode.TABLE);
    }

    private static Map<String, Field> documented() throws IOException {
        Map<String, Field> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(DOC)) {
            Matcher m = ROW.matcher(line);
            if (m.matches()) {
                Matcher lit = LITERAL.matcher(m.group(3).trim());
                String type = m.group(2).trim();
                String value = lit.find() ? lit.group(1) : null;
                if (value != null && type.equals("duration")) {
                    value = DurationText.format(DurationText.parse(value)); // 24h and 1d are the same default
                }
                out.put(m.group(1), new Field(type, value));
            }
        }
        return out;
    }

    private static void walk(Class<?> record, String prefix, Map<String, Field> out) throws Exception {
        Object defaults = allNulls(record);
        for (RecordComponent c : record.getRecordComponents()) {
            String path = prefix + SpecFields.yamlName(c);
            Class<?> type = c.getType();
            Object value = c.getAccessor().invoke(defaults);
            if (type.isRecord()) {
                out.put(path, new Field("mapping", null));
                walk(type, path + ".", out);
            } else if (List.class.equals(type) && elementType(c).isRecord()) {
                out.put(path, new Field("list of mappings", format(value)));
                walk(elementType(c), path + "[].", out);
            } else {
                out.put(path, new Field(typeName(c), format(value)));
            }
        }
    }

    private static Object allNulls(Class<?> record) throws Exception {
        Class<?>[] types = java.util.Arrays.stream(record.getRecordComponents()).map(RecordComponent::getType).toArray(Class<?>[]::new);
        Constructor<?> ctor = record.getDeclaredConstructor(types);
        return ctor.newInstance(new Object[types.length]);
    }

    private static Class<?> elementType(RecordComponent c) {
        Type t = ((ParameterizedType) c.getGenericType()).getActualTypeArguments()[0];
        return (Class<?>) t;
    }

    /** The documented type name of a field of each scalar type. */
    private static final Map<Class<?>, String> TYPE_NAMES = Map.of(
            String.class, "string",
            Integer.class, "integer",
            Long.class, "integer",
            Double.class, "number",
            Boolean.class, "boolean",
            Duration.class, "duration",
            Mode.class, "`in-place` \\| `table` \\| `sink`",
            Approval.class, "`manual` \\| `auto`",
            WriteOrder.class, "`dual-writes-first` \\| `reads-first`");

    private static String typeName(RecordComponent c) {
        Class<?> t = c.getType();
        if (TYPE_NAMES.containsKey(t)) {
            return TYPE_NAMES.get(t);
        } else if (t == Map.class && c.getName().equals("settings")) {
            return "mapping of name to text";
        } else if (t == Map.class) {
            return "mapping of column to expression";
        } else if (t == List.class && elementType(c) == String.class) {
            return "list of strings";
        }
        throw new AssertionError("no documented type name for " + c);
    }

    private static String format(Object value) {
        if (value == null) {
            return null;
        } else if (value instanceof Duration d) {
            return DurationText.format(d);
        } else if (value instanceof Mode m) {
            return m.label();
        } else if (value instanceof Approval a) {
            return a.label();
        } else if (value instanceof WriteOrder o) {
            return o.label();
        } else if (value instanceof Map<?, ?> m) {
            assertThat(m).as("mapping defaults are empty").isEmpty();
            return "{}";
        } else if (value instanceof List<?> l) {
            assertThat(l).as("list defaults are empty").isEmpty();
            return "[]";
        }
        return String.valueOf(value);
    }
}
