package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every {@code shapeshift …} command line in a code block of README.md and docs/*.md parses
 * against the real picocli model (parsed only, never run). Placeholders are read as the docs
 * write them: {@code [--opt VALUE]} is an option given, {@code a|b} is each alternative,
 * {@code …} after an option is its value and elsewhere "more options", dropped. A line that runs
 * the runtime jar ({@code shapeshift.jar}) parses against the runtime CLI alone, without the
 * all-in-one jar's {@code demo} and {@code bench}; {@code ./mvnw … && java -jar …} counts from the
 * {@code java}.
 */
class DocsCommandsTest {
    private static final Path REPO = Path.of("..");
    private static final Pattern COMMAND = Pattern.compile(
            "^(?:\\$ )?(?:\\S.* && )?(?:[A-Z][A-Z0-9_]*=\\S+\\s+)*(?:shapeshift|java -jar \\S*shapeshift(?:-all)?\\.jar)\\s+(.*)$");

    @TempDir
    Path home;

    /** One command line of the docs, where it is, and whether it names the runtime jar. */
    record DocCommand(String where, String line, boolean runtimeJar) {
    }

    static List<DocCommand> commands() throws IOException {
        List<Path> files = new ArrayList<>(List.of(REPO.resolve("README.md")));
        try (Stream<Path> docs = Files.list(REPO.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        List<DocCommand> found = new ArrayList<>();
        for (Path file : files) {
            boolean inBlock = false;
            String pending = "";
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.strip().startsWith("```")) {
                    inBlock = !inBlock;
                    continue;
                }
                if (!inBlock) {
                    continue;
                }
                String joined = pending + line;
                if (joined.stripTrailing().endsWith("\\")) {
                    pending = joined.stripTrailing().substring(0, joined.stripTrailing().length() - 1) + " ";
                    continue;
                }
                pending = "";
                Matcher m = COMMAND.matcher(joined.strip());
                if (m.matches()) {
                    found.add(new DocCommand(REPO.relativize(file) + ":" + (i + 1), m.group(1).replaceFirst("\\s+#.*$", ""),
                            joined.contains("shapeshift.jar")));
                }
            }
        }
        return found;
    }

    /** The argument lists a documented line stands for (one per alternative of an {@code a|b} token). */
    static List<List<String>> arguments(String line) {
        List<String> tokens = tokens(line);
        List<List<String>> variants = new ArrayList<>(List.of(new ArrayList<>()));
        String previous = null;
        for (String raw : tokens) {
            String t = raw.replace("[", "").replace("]", "");
            if (t.equals("…") || t.equals("...")) {
                if (previous != null && previous.startsWith("--") && !previous.contains("=")) {
                    variants.forEach(v -> v.add("x"));
                }
                previous = t;
                continue;
            }
            List<String> alternatives = !t.startsWith("-") && t.contains("|") && !raw.startsWith("'") ? List.of(t.split("\\|"))
                    : List.of(t);
            List<List<String>> next = new ArrayList<>();
            for (List<String> v : variants) {
                for (String a : alternatives) {
                    List<String> copy = new ArrayList<>(v);
                    copy.add(a);
                    next.add(copy);
                }
            }
            variants = next;
            previous = t;
        }
        return variants;
    }

    /** Words as a shell splits them: quotes group, and are removed. */
    static List<String> tokens(String line) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"([^\"]*)\"|'([^']*)'|(\\S+)").matcher(line);
        while (m.find()) {
            out.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
        }
        return out;
    }

    private void parse(List<String> args) {
        Main.commandLine(Map.of(), home).parseArgs(args.toArray(String[]::new));
    }

    /** As the runtime jar parses: no {@link ExtraCommand}. */
    private void parseRuntime(List<String> args) {
        Main.commandLine(Map.of(), home, List.of()).parseArgs(args.toArray(String[]::new));
    }

    @Test
    void everyDocumentedCommandLineParses() throws IOException {
        List<DocCommand> commands = commands();
        assertThat(commands).as("the docs show commands (the extraction works)").hasSizeGreaterThan(20);
        List<String> failures = new ArrayList<>();
        for (DocCommand c : commands) {
            for (List<String> args : arguments(c.line())) {
                try {
                    if (c.runtimeJar()) {
                        parseRuntime(args);
                    } else {
                        parse(args);
                    }
                } catch (CommandLine.ParameterException e) {
                    failures.add(c.where() + ": shapeshift " + String.join(" ", args) + " — " + e.getMessage());
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void aCommandThatDoesNotExistFailsTheCheck() {
        assertThatThrownBy(() -> arguments("reconcile drift list users").forEach(this::parse))
                .isInstanceOf(CommandLine.ParameterException.class);
        assertThatThrownBy(() -> arguments("worker --password p --bootstrap k:9092").forEach(this::parse))
                .isInstanceOf(CommandLine.ParameterException.class);
        arguments("demo --scenario menu").forEach(this::parse);
        assertThatThrownBy(() -> arguments("demo --scenario menu").forEach(this::parseRuntime))
                .as("the runtime jar has no demo").isInstanceOf(CommandLine.UnmatchedArgumentException.class);
        assertThat(arguments("backfill pause|resume users [--reason TEXT] --actor …"))
                .containsExactly(List.of("backfill", "pause", "users", "--reason", "TEXT", "--actor", "x"),
                        List.of("backfill", "resume", "users", "--reason", "TEXT", "--actor", "x"));
    }
}
