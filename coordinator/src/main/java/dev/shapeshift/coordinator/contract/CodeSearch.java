package dev.shapeshift.coordinator.contract;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scans source trees for the old shape's identifiers: the old columns (in place) or the old table
 * (table mode), wherever code names them — SQL strings, ORM mappings, migrations, configuration.
 * A name matches on identifier boundaries ({@code A-Z a-z 0-9 _ $} on neither side), case
 * folded, quoted or not ({@code legacy_email}, {@code "legacy_email"}, {@code `legacy_email`},
 * {@code LEGACY_EMAIL}); a snake_case name also matches its camelCase form ({@code legacyEmail},
 * the field an ORM maps by naming strategy). {@code legacy_email_sent} and {@code legacyEmailSent}
 * are other names and do not match {@code legacy_email}.
 *
 * <p>Skipped: hidden directories ({@code .git}), build output ({@code target}, {@code build},
 * {@code node_modules}), files over {@value #MAX_BYTES} bytes and binary files (a NUL byte in the
 * first 8 KiB).
 */
public final class CodeSearch {
    static final long MAX_BYTES = 4L << 20;
    private static final Set<String> SKIPPED_DIRS = Set.of("target", "build", "node_modules");
    private static final String WORD = "A-Za-z0-9_$";
    private static final int SHOWN_CHARS = 200;

    private final List<String> names;
    private final Pattern pattern;

    CodeSearch(List<String> identifiers) {
        Set<String> all = new LinkedHashSet<>();
        for (String id : identifiers) {
            all.add(id);
            String camel = camel(id);
            if (!camel.equals(id)) {
                all.add(camel);
            }
        }
        this.names = List.copyOf(all);
        this.pattern = Pattern.compile("(?<![" + WORD + "])(?:" + String.join("|", all.stream().map(Pattern::quote).toList())
                + ")(?![" + WORD + "])", Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    }

    /** The search for a migration's old shape: its old columns in place, its old table in table mode; null when it drops nothing. */
    public static CodeSearch of(OldShape shape) {
        if (!shape.dropsSomething()) {
            return null;
        }
        return new CodeSearch(shape.inPlace() ? shape.dropColumns() : List.of(shape.table()));
    }

    /** The names searched for, for people. */
    public List<String> names() {
        return names;
    }

    /**
     * One place in a source file that names the old shape.
     *
     * @param root the directory searched, as given
     * @param file the file's path relative to {@code root}, with {@code /} separators (what an acknowledgement names)
     * @param text the line, trimmed and cut at 200 characters
     */
    public record Hit(String root, String file, int line, String identifier, String text) {
        /** {@code root/file:line}, for people. */
        public String where() {
            return (root.endsWith("/") ? root : root + "/") + file + ":" + line;
        }
    }

    /** Every hit under {@code root}, in path and line order. */
    public List<Hit> scan(Path root, String rootAsGiven) throws IOException {
        List<Path> files = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                boolean skip = !dir.equals(root) && (name.startsWith(".") || SKIPPED_DIRS.contains(name));
                return skip ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && attrs.size() <= MAX_BYTES) {
                    files.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE;
            }
        });
        files.sort(null);
        List<Hit> hits = new ArrayList<>();
        for (Path f : files) {
            String text = read(f);
            if (text == null) {
                continue;
            }
            String relative = root.relativize(f).toString().replace('\\', '/');
            String[] lines = text.split("\r\n|\r|\n", -1);
            for (int i = 0; i < lines.length; i++) {
                Matcher m = pattern.matcher(lines[i]);
                if (m.find()) {
                    String line = lines[i].strip();
                    hits.add(new Hit(rootAsGiven, relative, i + 1, m.group(),
                            line.length() > SHOWN_CHARS ? line.substring(0, SHOWN_CHARS - 3) + "..." : line));
                }
            }
        }
        return hits;
    }

    /** The file as text, or null when it is binary or unreadable. */
    private static String read(Path f) {
        try (InputStream in = Files.newInputStream(f)) {
            byte[] bytes = in.readAllBytes();
            for (int i = 0; i < Math.min(bytes.length, 8192); i++) {
                if (bytes[i] == 0) {
                    return null;
                }
            }
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (IOException e) {
            return null;
        }
    }

    /** {@code legacy_email} → {@code legacyEmail}; a name without underscores stays as it is. */
    static String camel(String snake) {
        if (snake.indexOf('_') <= 0 || snake.endsWith("_")) {
            return snake; // no inner underscore: no camelCase form (and never a shorter, broader name)
        }
        StringBuilder sb = new StringBuilder();
        boolean up = false;
        for (char ch : snake.toCharArray()) {
            if (ch == '_') {
                up = sb.length() > 0;
            } else {
                sb.append(up ? Character.toUpperCase(ch) : ch);
                up = false;
            }
        }
        return sb.toString();
    }
}
