package dev.shapeshift.launcher;

import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.PrivilegeFinding;
import dev.shapeshift.spec.Privileges;
import dev.shapeshift.spec.SpecProblem;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Validation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code shapeshift validate SPEC}: static checks, plus live checks and the connecting role's
 * privileges when a database is given (privileges of later steps or other roles are warnings).
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Check a migration spec: on its own, and against the source database if one is given.")
public final class ValidateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file (YAML).")
    Path specFile;

    @Mixin
    ConnectionOptions connection = new ConnectionOptions();

    @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE}).")
    OutputFormat output;

    @Spec
    CommandSpec command;

    @Override
    public Integer call() {
        MigrationSpec spec = new SpecReader().read(specFile);
        Checked checked = check(spec, connection);
        Validation v = checked.validation();
        PrintWriter out = command.commandLine().getOut();
        String origin = origin(specFile);
        List<String> warnings = checked.warnings(origin);
        if (output == OutputFormat.JSON) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("spec", origin);
            json.put("valid", v.valid());
            json.put("checks", v.live() ? "static+live" : "static");
            json.put("problems", v.problems());
            json.put("warnings", checked.privileges().stream()
                    .filter(p -> p.severity() == PrivilegeFinding.Severity.WARNING).toList());
            out.println(OutputFormat.json(json));
        } else {
            for (SpecProblem p : v.problems()) {
                out.println(p.describe(origin));
            }
            warnings.forEach(out::println);
            String scope = v.live() ? "static and live checks" : "static checks only (no database connection given)";
            out.println(origin + ": " + (v.valid() ? "valid" : v.problems().size() + " problem(s)") + " — " + scope);
        }
        out.flush();
        return v.valid() ? 0 : dev.shapeshift.error.ErrorCode.SPEC_INVALID.exitCode();
    }

    /** A validation and, when it ran live and passed, the privilege findings of the connecting role. */
    record Checked(Validation validation, List<PrivilegeFinding> privileges) {
        List<String> warnings(String origin) {
            return privileges.stream().filter(p -> p.severity() == PrivilegeFinding.Severity.WARNING)
                    .map(p -> p.describe(origin)).toList();
        }
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
