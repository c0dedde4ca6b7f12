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
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Reads a spec file (YAML) into a {@link MigrationSpec}. Strict: unknown fields, wrong types,
 * duplicate keys and bad durations are errors. Every failure is a
 * {@link ShapeshiftException} with code {@link ErrorCode#SPEC_MALFORMED} whose message reads
 * {@code users.yaml:3:5: backfill.chunkRow: <what is wrong> — <how to fix it>}.
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
        String origin = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED,
                    origin + ": no such file (" + file.toAbsolutePath() + ") — check the path");
        } catch (IOException e) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED, origin + ": cannot read the file: " + e.getMessage(), e);
        }
        return read(origin, text);
    }

    /** Reads spec text; {@code origin} names it in messages (usually the file name). */
    public MigrationSpec read(String origin, String yamlText) {
        MigrationSpec spec = null;
        if (!yamlText.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#") || l.strip().equals("---"))) {
            try {
                spec = mapper.readValue(yamlText, MigrationSpec.class);
            } catch (JsonProcessingException e) {
                throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED, origin + ":" + explain(e, yamlText), e);
            }
        }
        YamlLocator.firstNull(yamlText).ifPresent(at -> {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED, origin + ":" + at.location() + ": " + at.path()
                    + ": empty value — give a value, or remove the line to get the default (see docs/spec.md)");
        });
        if (spec == null) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED,
                    origin + ": the file is empty — write a spec (see docs/spec.md and examples/)");
        }
        return spec;
    }

    private static String explain(JsonProcessingException e, String yamlText) {
        String where = location(e.getLocation());
        StreamReadException syntax = syntaxError(e);
        if (syntax != null) {
            return location(syntax.getLocation()) + " not valid YAML: " + yamlMessage(syntax.getOriginalMessage())
                    + " — fix the YAML syntax (indentation, quoting, one value per key)";
        }
        if (!(e instanceof JsonMappingException m)) {
            return where + " " + firstLine(e.getOriginalMessage());
        }
        String path = path(m.getPath());
        where = YamlLocator.locate(yamlText, m.getPath()).map(l -> l + ":").orElse(where);
        if (m instanceof UnrecognizedPropertyException u) {
            List<String> known = u.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList();
            String parent = path.contains(".") ? path.substring(0, path.lastIndexOf('.')) : "the top level";
            return where + " " + path + ": unknown field '" + u.getPropertyName() + "'"
                    + ClosestMatch.hint(u.getPropertyName(), known)
                    + " — the fields of " + parent + " are: " + String.join(", ", known);
        }
        if (m instanceof InvalidNullException) {
            return where + " " + path + (path.endsWith("]") ? ": an empty entry — remove the empty item or give it a value"
                    : ": empty value — give a value, or remove the line to get the default (docs/spec.md)");
        }
        if (m instanceof InvalidFormatException f) {
            return where + " " + path + ": '" + f.getValue() + "' is not " + expected(f.getTargetType(), path)
                    + " — write " + expected(f.getTargetType(), path);
        }
        if (m instanceof ValueInstantiationException v && v.getCause() != null) {
            return where + " " + path + ": " + causeMessage(v.getCause());
        }
        if (m instanceof MismatchedInputException mi && mi.getTargetType() != null) {
            return where + " " + path + ": wrong kind of value — write " + expected(mi.getTargetType(), path);
        }
        if (m.getCause() instanceof IllegalArgumentException iae) {
            return where + " " + path + ": " + iae.getMessage();
        }
        return where + " " + path + ": " + firstLine(m.getOriginalMessage());
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

    private static String causeMessage(Throwable cause) {
        if (cause instanceof NullPointerException) {
            return "a list has an empty entry — remove the empty '-' item";
        }
        return cause.getMessage() + " — fix the value";
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
            return "one of in-place, table";
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
            return "";
        }
        return loc.getLineNr() + ":" + loc.getColumnNr() + ":";
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
