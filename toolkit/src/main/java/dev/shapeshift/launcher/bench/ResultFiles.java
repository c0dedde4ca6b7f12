package dev.shapeshift.launcher.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a benchmark's results are written (bench/README.md): {@code <dir>/<base>.md} and
 * {@code .json}, both led by the date, the command that reproduces the run and the machine, so a
 * result never travels without them.
 */
final class ResultFiles {
    private ResultFiles() {
    }

    /** The markdown header lines: date, command, and one line per machine fact. */
    static void header(StringBuilder b, OffsetDateTime started, String command, Map<String, String> machine) {
        b.append("- date: ").append(started).append("\n");
        b.append("- command: `").append(command).append("`\n");
        machine.forEach((k, v) -> b.append("- ").append(k).append(": ").append(v).append("\n"));
    }

    /**
     * Writes the markdown and the JSON ({@code date}, {@code command}, then {@code fields} in their
     * order, then {@code machine}); returns the markdown's path.
     */
    static Path write(Path dir, String base, String markdown, OffsetDateTime started, String command,
                      Map<String, String> machine, Map<String, Object> fields) throws IOException {
        Files.createDirectories(dir);
        Path md = dir.resolve(base + ".md");
        Files.writeString(md, markdown);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", started.toString());
        json.put("command", command);
        json.putAll(fields);
        json.put("machine", machine);
        Files.writeString(dir.resolve(base + ".json"),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json) + "\n");
        return md;
    }
}
