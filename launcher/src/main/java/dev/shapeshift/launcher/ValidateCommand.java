package dev.shapeshift.launcher;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.PrivilegeFinding;
import dev.shapeshift.spec.Privileges;
import dev.shapeshift.spec.SpecProblem;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Validation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

/**
 * {@code shapeshift validate SPEC}: every problem of a spec in one run. A malformed spec (unknown
 * fields, wrong types, empty values) gets its structural problems and the static checks of what
 * could be read; a well-formed one the static checks, plus the live checks and the connecting
 * role's privileges when a database is given (privileges of later steps or other roles are warnings).
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Check a migration spec: on its own, and against the source database if one is given.")
public final class ValidateCommand extends SpecCommand {

    @Override
    public Integer call() {
        SpecReader.Reading reading = new SpecReader().readAll(specFile);
        Checked checked = reading.malformed() ? malformed(reading) : check(reading.spec(), connection);
        Validation v = checked.validation();
        PrintWriter out = command.commandLine().getOut();
        String origin = origin(specFile);
        List<String> warnings = checked.warnings(origin);
        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("spec", origin);
            json.put("valid", v.valid());
            json.put("checks", reading.malformed() ? "read+static" : v.live() ? "static+live" : "static");
            json.put("problems", v.problems());
            json.put("warnings", checked.privileges().stream()
                    .filter(p -> p.severity() == PrivilegeFinding.Severity.WARNING).toList());
            out.println(OutputFormat.json(json));
        } else {
            for (SpecProblem p : v.problems()) {
                out.println(p.describe(origin));
            }
            warnings.forEach(out::println);
            String scope = reading.malformed() ? "static checks only (the spec is malformed; the live checks run once it reads)"
                    : v.live() ? "static and live checks" : "static checks only (no database connection given)";
            out.println(origin + ": " + (v.valid() ? "valid" : v.problems().size() + " problem(s)") + " — " + scope);
        }
        out.flush();
        return v.valid() ? 0 : ErrorCode.SPEC_INVALID.exitCode();
    }

    /** A validation and, when it ran live and passed, the privilege findings of the connecting role. */
    record Checked(Validation validation, List<PrivilegeFinding> privileges) {
        List<String> warnings(String origin) {
            return privileges.stream().filter(p -> p.severity() == PrivilegeFinding.Severity.WARNING)
                    .map(p -> p.describe(origin)).toList();
        }
    }

    /**
     * The reader's problems, then the static checks of what it could read, leaving out those about
     * a field the reader dropped (they would repeat its problem, e.g. "required").
     */
    static Checked malformed(SpecReader.Reading reading) {
        List<SpecProblem> problems = new ArrayList<>(reading.problems());
        if (reading.spec() != null) {
            SpecValidator.checkStatic(reading.spec()).stream().filter(p -> !reading.dropped(p.path())).forEach(problems::add);
        }
        return new Checked(new Validation(reading.spec(), problems, false, null, null), List.of());
    }

    static Checked check(MigrationSpec spec, ConnectionOptions options) {
        try (ConnectionOptions.Source source = options.open()) {
            if (source == null) {
                return new Checked(SpecValidator.checkWithoutDatabase(spec), List.of());
            }
            Validation v = SpecValidator.check(spec, source.connection());
            List<PrivilegeFinding> privileges = v.valid() ? Privileges.check(spec, source.connection()) : List.of();
            return new Checked(Privileges.withErrors(v, privileges), privileges);
        }
    }

    static String origin(Path file) {
        return file.getFileName() == null ? file.toString() : file.getFileName().toString();
    }
}
