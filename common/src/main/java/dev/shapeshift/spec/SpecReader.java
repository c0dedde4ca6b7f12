package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Reads a spec file (YAML) into a {@link MigrationSpec}. Strict: unknown fields, wrong types,
 * duplicate keys and bad durations are errors. Every failure is a
 * {@link ShapeshiftException} with code {@link ErrorCode#SPEC_MALFORMED} whose message has one line
 * per problem, {@code users.yaml:3:5: backfill.chunkRow: <what is wrong> — <how to fix it>}, every
 * problem of the file at once ({@link #readAll}).
 *
 * <p>Why one class of ~390 lines: one method per section of the spec format, all sharing the strict
 * reading of a YAML node with its line and column; the whole format in one file is what
 * docs/spec.md describes (kept equal to the spec records by SpecDocsTest).
 */
public final class SpecReader {
    private final ObjectMapper mapper;

    public SpecReader() {
        YAMLFactory yaml = YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
        this.mapper = YAMLMapper.builder(yaml)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .defaultSetterInfo(JsonSetter.Value.forContentNulls(Nulls.FAIL))
                .addModule(new SimpleModule("shapeshift-spec").addDeserializer(Duration.class, new DurationDeserializer()))
                .build();
    }

    /** Reads a spec file; its file name is the origin used in messages. */
    public MigrationSpec read(Path file) {
        return read(origin(file), text(file));
    }

    /** {@link #readAll(String)} of a file; a file that cannot be read is thrown ({@link ErrorCode#SPEC_MALFORMED}). */
    public Reading readAll(Path file) {
        return readAll(text(file));
    }

    private static String origin(Path file) {
        return file.getFileName() == null ? file.toString() : file.getFileName().toString();
    }

    private static String text(Path file) {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED,
                    origin(file) + ": no such file (" + file.toAbsolutePath() + ") — check the path");
        } catch (IOException e) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED, origin(file) + ": cannot read the file: " + e.getMessage(), e);
        }
    }

    /**
     * Reads spec text; {@code origin} names it in messages (usually the file name). A malformed
     * spec throws one exception listing every problem found ({@link #readAll}), one line each.
     */
    public MigrationSpec read(String origin, String yamlText) {
        Reading r = readAll(yamlText);
        if (!r.problems().isEmpty()) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED, r.problems().stream().map(p -> p.describe(origin))
                    .collect(Collectors.joining("\n")));
        }
        return r.spec();
    }

    /**
     * What reading a spec found: the spec, and every structural problem (unknown fields, wrong
     * types, empty values...) rather than only the first.
     *
     * @param spec     the spec bound without the fields that have problems (their defaults apply), so
     *                 that its other fields can still be checked; null when nothing could be bound
     *                 (empty file, YAML syntax error, not a mapping at the top level)
     * @param problems every problem, in file order; empty when the spec is well-formed
     * @param dropped  the paths left out of {@code spec} because of a problem: a check on the spec
     *                 about one of them (e.g. "required") would only repeat the problem
     */
    public record Reading(MigrationSpec spec, List<SpecProblem> problems, List<String> dropped) {
        public boolean malformed() {
            return !problems.isEmpty();
        }

        /** Whether {@code path} is, or lies under, a dropped field. */
        public boolean dropped(String path) {
            return path != null && dropped.stream().anyMatch(d -> path.equals(d) || path.startsWith(d + ".")
                    || path.startsWith(d + "["));
        }
    }

    /**
     * Reads spec text and reports every structural problem in one pass: each field that fails to
     * bind is reported and left out, and binding is tried again, until what is left binds. A YAML
     * syntax error stops the reading (the parser cannot go on past it).
     */
    public Reading readAll(String yamlText) {
        if (yamlText.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#") || l.strip().equals("---"))) {
            return new Reading(null, List.of(new SpecProblem(null, "the file is empty",
                    "write a spec (see docs/spec.md and examples/)")), List.of());
        }
        JsonNode tree;
        try {
            tree = mapper.readTree(yamlText);
        } catch (JsonProcessingException e) {
            return new Reading(null, List.of(explain(e, yamlText)), List.of());
        }
        if (!(tree instanceof ObjectNode root)) {
            return new Reading(null, List.of(new SpecProblem(null, "the spec is not a mapping of fields",
                    "start with 'name: ...', see docs/spec.md and examples/", "1:1")), List.of());
        }
        List<SpecProblem> problems = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        removeNulls(root, yamlText, problems, dropped);
        MigrationSpec spec = null;
        for (int attempt = 0; attempt < MAX_PROBLEMS && spec == null; attempt++) {
            try {
                spec = mapper.treeToValue(root, MigrationSpec.class);
            } catch (JsonProcessingException e) {
                SpecProblem p = explain(e, yamlText);
                if (problems.stream().noneMatch(q -> Objects.equals(q.path(), p.path()))) {
                    problems.add(p);
                }
                String removed = e instanceof JsonMappingException m ? remove(root, m.getPath()) : null;
                if (removed == null) {
                    break;
                }
                dropped.add(removed);
            }
        }
        problems.sort(Comparator.comparing(SpecReader::line).thenComparing(SpecReader::column));
        return new Reading(spec, List.copyOf(problems), List.copyOf(dropped));
    }

    /** Bounds the bind-and-drop loop (every round drops one field, so a spec has fewer fields than this). */
    private static final int MAX_PROBLEMS = 500;

    /**
     * Explicit nulls ({@code key:} with nothing, {@code ~}, a bare {@code -}) are problems; a field
     * holding one is dropped. A null list item is left in place (removing it would shift the
     * indexes of later problems): binding reports it, once.
     */
    private static void removeNulls(ObjectNode root, String yamlText, List<SpecProblem> problems, List<String> dropped) {
        for (YamlLocator.At at : YamlLocator.nulls(yamlText)) {
            problems.add(new SpecProblem(at.path(), "empty value",
                    "give a value, or remove the line to get the default (see docs/spec.md)", at.location()));
            removeNull(root, new ArrayList<>(), at.path(), dropped);
        }
    }

    private static void removeNull(JsonNode node, List<JsonMappingException.Reference> path, String target,
                                   List<String> dropped) {
        if (node instanceof ObjectNode o) {
            for (String field : fieldNames(o)) {
                path.add(new JsonMappingException.Reference(o, field));
                if (o.get(field).isNull() && path(path).equals(target)) {
                    o.remove(field);
                    dropped.add(target);
                } else {
                    removeNull(o.get(field), path, target, dropped);
                }
                path.remove(path.size() - 1);
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                path.add(new JsonMappingException.Reference(a, i));
                removeNull(a.get(i), path, target, dropped);
                path.remove(path.size() - 1);
            }
        }
    }

    /**
     * Removes the field a binding problem is about (a whole list when the problem is one of its
     * items, so the indexes of other problems stay right); the dropped path, or null when nothing
     * could be removed.
     */
    private static String remove(ObjectNode root, List<JsonMappingException.Reference> refs) {
        int last = refs.size() - 1;
        while (last >= 0 && refs.get(last).getFieldName() == null) {
            last--;
        }
        if (last < 0) {
            return null;
        }
        JsonNode parent = root;
        for (int i = 0; i < last && parent != null; i++) {
            JsonMappingException.Reference r = refs.get(i);
            parent = r.getFieldName() != null ? parent.get(r.getFieldName()) : parent.get(r.getIndex());
        }
        if (!(parent instanceof ObjectNode o) || o.remove(refs.get(last).getFieldName()) == null) {
            return null;
        }
        return path(refs.subList(0, last + 1));
    }

    private static List<String> fieldNames(ObjectNode o) {
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static int line(SpecProblem p) {
        return p.location() == null ? 0 : Integer.parseInt(p.location().substring(0, p.location().indexOf(':')));
    }

    private static int column(SpecProblem p) {
        return p.location() == null ? 0 : Integer.parseInt(p.location().substring(p.location().indexOf(':') + 1));
    }

    private static SpecProblem explain(JsonProcessingException e, String yamlText) {
        String where = location(e.getLocation());
        StreamReadException syntax = syntaxError(e);
        if (syntax != null) {
            return new SpecProblem(null, "not valid YAML: " + yamlMessage(syntax.getOriginalMessage()),
                    "fix the YAML syntax (indentation, quoting, one value per key)", location(syntax.getLocation()));
        }
        if (!(e instanceof JsonMappingException m)) {
            return new SpecProblem(null, firstLine(e.getOriginalMessage()), null, where);
        }
        String path = path(m.getPath());
        where = YamlLocator.locate(yamlText, m.getPath()).orElse(where);
        if (m instanceof UnrecognizedPropertyException u) {
            List<String> known = u.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList();
            String parent = path.contains(".") ? path.substring(0, path.lastIndexOf('.')) : "the top level";
            return new SpecProblem(path, "unknown field '" + u.getPropertyName() + "'"
                    + ClosestMatch.hint(u.getPropertyName(), known), "the fields of " + parent + " are: "
                    + String.join(", ", known), where);
        }
        if (m instanceof InvalidNullException) {
            return path.endsWith("]") ? new SpecProblem(path, "empty value", "give a value, or remove the empty '-' item", where)
                    : new SpecProblem(path, "empty value", "give a value, or remove the line to get the default (docs/spec.md)", where);
        }
        if (m instanceof InvalidFormatException f) {
            return new SpecProblem(path, "'" + f.getValue() + "' is not " + expected(f.getTargetType(), path),
                    "write " + expected(f.getTargetType(), path), where);
        }
        if (m instanceof ValueInstantiationException v && v.getCause() != null) {
            if (v.getCause() instanceof NullPointerException) {
                return new SpecProblem(path, "a list has an empty entry", "remove the empty '-' item", where);
            }
            return new SpecProblem(path, v.getCause().getMessage(), "fix the value", where);
        }
        if (m instanceof MismatchedInputException mi && mi.getTargetType() != null) {
            return new SpecProblem(path, "wrong kind of value", "write " + expected(mi.getTargetType(), path), where);
        }
        if (m.getCause() instanceof IllegalArgumentException iae) {
            return new SpecProblem(path, iae.getMessage(), null, where);
        }
        return new SpecProblem(path, firstLine(m.getOriginalMessage()), null, where);
    }

    private static StreamReadException syntaxError(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StreamReadException s && !(t instanceof JsonMappingException)) {
                return s;
            }
        }
        return null;
    }

    /** SnakeYAML's message without its source excerpt lines. */
    private static String yamlMessage(String message) {
        if (message == null) {
            return "";
        }
        return message.lines().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("in 'reader'") && !l.startsWith("^") && !l.startsWith("in "))
                .filter(l -> !l.contains("line ") || !l.contains("column "))
                .collect(Collectors.joining("; "));
    }

    private static String expected(Class<?> type, String path) {
        if (type == null) {
            return "a value of the right type";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "a whole number";
        }
        if (type == Double.class || type == double.class) {
            return "a number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == Duration.class) {
            return DurationText.FORMS;
        }
        if (type == String.class) {
            return "a text value";
        }
        if (type == Mode.class) {
            return "one of in-place, table, sink";
        }
        if (type == Approval.class) {
            return "one of manual, auto";
        }
        if (List.class.isAssignableFrom(type)) {
            return "a list (YAML '- item' lines or [a, b])";
        }
        if (type.isRecord()) {
            return "a mapping with the fields " + java.util.Arrays.stream(type.getRecordComponents())
                    .map(SpecFields::yamlName).collect(Collectors.joining(", "));
        }
        return "a " + type.getSimpleName();
    }

    private static String path(List<JsonMappingException.Reference> refs) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : refs) {
            if (r.getFieldName() != null) {
                if (sb.length() > 0) {
                    sb.append('.');
                }
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.length() == 0 ? "(top level)" : sb.toString();
    }

    private static String location(JsonLocation loc) {
        if (loc == null || loc.getLineNr() < 0) {
            return null;
        }
        return loc.getLineNr() + ":" + loc.getColumnNr();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }

    /** Accepts the forms of {@link DurationText}. */
    private static final class DurationDeserializer extends StdScalarDeserializer<Duration> {
        private static final long serialVersionUID = 1L;

        DurationDeserializer() {
            super(Duration.class);
        }

        @Override
        public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String text = p.getValueAsString();
            try {
                return DurationText.parse(text);
            } catch (IllegalArgumentException e) {
                throw ctxt.weirdStringException(text, Duration.class, e.getMessage());
            }
        }
    }
}
