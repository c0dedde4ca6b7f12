package dev.shapeshift.scenarios;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * One scenario directory under {@code src/test/resources/scenarios/<name>/}:
 * {@code schema.sql} (the source table, run once in a fresh database), {@code spec.yaml} (the
 * migration), {@code workload.yaml} ({@link Workload}), {@code expected.yaml} ({@link Expected}) and
 * {@code expected.sql} — a hand-written query computing transform(source): the key columns first,
 * then the target columns in spec order. The checker compares the target with it row by row.
 */
record Scenario(String name, Path dir, String schemaSql, String specYaml, Workload workload, Expected expected,
                String expectedSql) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    static Scenario load(Path dir) {
        try {
            String expectedSql = Files.readString(dir.resolve("expected.sql")).strip();
            if (expectedSql.endsWith(";")) {
                expectedSql = expectedSql.substring(0, expectedSql.length() - 1);
            }
            return new Scenario(dir.getFileName().toString(), dir, Files.readString(dir.resolve("schema.sql")),
                    Files.readString(dir.resolve("spec.yaml")),
                    YAML.readValue(dir.resolve("workload.yaml").toFile(), Workload.class),
                    YAML.readValue(dir.resolve("expected.yaml").toFile(), Expected.class), expectedSql);
        } catch (IOException e) {
            throw new UncheckedIOException("scenario " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Every scenario directory on the test classpath, sorted by name; {@code -Dshapeshift.scenario=a,b} picks some. */
    static List<Scenario> all() {
        String only = System.getProperty("shapeshift.scenario", "").strip();
        try (Stream<Path> dirs = Files.list(root())) {
            return dirs.filter(Files::isDirectory).sorted()
                    .filter(d -> only.isEmpty() || List.of(only.split(",")).contains(d.getFileName().toString()))
                    .map(Scenario::load).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A scenario directory by class-path resource path, e.g. {@code crash/crash-base}. */
    static Scenario resource(String path) {
        try {
            return load(Path.of(Scenario.class.getResource("/" + path).toURI()));
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalArgumentException("no scenario directory " + path + " on the test class path", e);
        }
    }

    private static Path root() {
        try {
            return Path.of(Scenario.class.getResource("/scenarios").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
