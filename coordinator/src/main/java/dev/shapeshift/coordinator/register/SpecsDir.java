package dev.shapeshift.coordinator.register;

import dev.shapeshift.coordinator.register.Registration.Outcome;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory of spec files ({@code *.yaml}, {@code *.yml}, not recursive), registered file by file:
 * one bad file is reported (file, field, fix) and the others still go on. Used once by
 * {@code shapeshift apply DIR} and repeatedly by the coordinator's {@code --specs-dir} scan.
 *
 * <p>A file whose content was accepted before is not registered again until it changes (the
 * catalog, not this memory, decides: a restarted coordinator re-registers every file, which is a
 * no-op for the unchanged ones). Refused files are re-checked on every scan, since the database
 * may have changed (a table created) while the file did not. An outcome is logged when it changes.
 */
public final class SpecsDir {
    private static final Logger log = LoggerFactory.getLogger(SpecsDir.class);

    private final Path dir;
    private final Registrar registrar;
    /** Files whose content was accepted, with that content and its registration. */
    private final Map<Path, Accepted> accepted = new HashMap<>();
    private final Map<Path, String> lastLogged = new HashMap<>();
    private volatile Scan last;

    /** The result of one scan: every file's registration, in file-name order. */
    public record Scan(String dir, Instant scannedAt, List<Registration> files, String error) {
        public Scan {
            files = List.copyOf(files);
        }

        /** The files that were refused: invalid or conflicting with a registered migration. */
        public List<Registration> specProblems() {
            return files.stream().filter(r -> !r.accepted()).toList();
        }
    }

    private record Accepted(String text, Registration registration) {
    }

    public SpecsDir(Path dir, Registrar registrar) {
        this.dir = Objects.requireNonNull(dir);
        this.registrar = registrar;
        this.last = new Scan(dir.toString(), null, List.of(), "not scanned yet");
    }

    /** The spec files of a directory, sorted by name; a missing or unreadable directory is SPEC_MALFORMED. */
    public static List<Path> files(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED, dir + ": not a directory — name the directory "
                    + "that holds the spec files (*.yaml, *.yml)");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return (n.endsWith(".yaml") || n.endsWith(".yml")) && !n.startsWith(".") && Files.isRegularFile(p);
            }).sorted().toList();
        } catch (IOException e) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED, dir + ": cannot list the directory: " + e.getMessage(), e);
        }
    }

    /** Registers every file once; the whole result. Database failures other than a file's own problems are thrown. */
    public Scan apply() {
        List<Registration> out = new ArrayList<>();
        for (Path file : files(dir)) {
            out.add(registerFile(file));
        }
        return new Scan(dir.toString(), Instant.now(), out, null);
    }

    /**
     * One scan of the coordinator's loop: like {@link #apply} but skipping files accepted unchanged
     * before, and never throwing (the error is kept in the result and logged).
     */
    public synchronized Scan scan() {
        List<Registration> out = new ArrayList<>();
        String error = null;
        try {
            List<Path> files = files(dir);
            for (Path file : files) {
                Accepted before = accepted.get(file);
                boolean unchanged = before != null && before.text().equals(read(file));
                out.add(unchanged ? before.registration() : registerFile(file));
            }
            accepted.keySet().retainAll(files);
            lastLogged.keySet().retainAll(files);
        } catch (ShapeshiftException e) {
            error = e.getMessage();
            log.warn("specs dir scan failed dir={} error={}", dir, e.getMessage());
        }
        Scan scan = new Scan(dir.toString(), Instant.now(), out, error);
        last = scan;
        return scan;
    }

    /** The latest scan (for the API and status). */
    public Scan last() {
        return last;
    }

    private Registration registerFile(Path file) {
        String origin = file.getFileName().toString();
        String text = read(file);
        Registration r = text == null
                ? new Registration(origin, null, Outcome.INVALID, null, origin + ": cannot read the file — check its "
                        + "permissions", List.of(), List.of(), List.of())
                : registrar.register(origin, text);
        if (r.accepted()) {
            accepted.put(file, new Accepted(text, r));
        } else {
            accepted.remove(file);
        }
        if (!r.message().equals(lastLogged.put(file, r.message()))) {
            if (r.accepted()) {
                log.info("spec file registered file={} migration={} outcome={} message=\"{}\"", origin, r.migration(),
                        r.outcome(), r.message());
            } else {
                log.warn("spec file refused file={} migration={} outcome={} message=\"{}\"", origin, r.migration(),
                        r.outcome(), r.message());
            }
            r.warnings().forEach(w -> log.warn("spec file privilege warning file={} warning=\"{}\"", origin, w));
        }
        return r;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return null;
        }
    }
}
