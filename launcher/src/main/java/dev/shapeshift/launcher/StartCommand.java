package dev.shapeshift.launcher;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.register.Registrar;
import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecProblem;
import dev.shapeshift.spec.SpecReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code shapeshift start SPEC}: validates the spec against the live database (and the role's
 * privileges), registers it in phase {@code planned}, says what happens next, and returns. The
 * coordinator's driver walks it from there. Idempotent: the same spec again is a no-op.
 */
@Command(name = "start", mixinStandardHelpOptions = true,
        description = "Register a migration: validate the spec live, create it in phase planned; the coordinator takes it from there.")
public final class StartCommand extends RegisterCommand {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file (YAML).")
    Path specFile;

    @Option(names = "--again", description = "Start a finished (contracted or rolled-back, cleaned up) migration again "
            + "under its name; the finished run keeps its history as NAME~GENERATION.")
    boolean again;

    @Override
    public Integer call() {
        MigrationSpec spec = new SpecReader().read(specFile);
        String text = readText(specFile);
        Registrar registrar = registrar();
        Registration r = (again ? registrar.again() : registrar).register(ValidateCommand.origin(specFile), spec, text);
        PrintWriter out = command.commandLine().getOut();
        if (output.json()) {
            out.println(OutputFormat.json(json(r)));
        } else {
            print(out, command.commandLine().getErr(), r);
        }
        out.flush();
        return exitCode(r);
    }

    /** A registrar on the source database; the catalog schema is brought up to date first (idempotent). */
    static Registrar registrar(DbOptions options, String actor) {
        Database database = options.database();
        CatalogSchema.migrate(database);
        return new Registrar(database, "cli:" + actor);
    }

    static int exitCode(Registration r) {
        return r.accepted() ? 0 : r.outcome().error().exitCode();
    }

    /** Accepted: what happens next on stdout. Refused: the message on stderr. Warnings on stdout either way. */
    static void print(PrintWriter out, PrintWriter err, Registration r) {
        switch (r.outcome()) {
            case CREATED -> {
                out.println(r.migration() + ": registered in phase planned (from " + r.origin() + ")");
                out.println("  next: the coordinator's driver takes it: expand, sync, backfill, reconcile; the read switch and"
                        + " the contract wait for approval unless the spec makes them automatic");
                out.println("  watch: shapeshift status " + r.migration() + "   (or the dashboard, or GET /api/migrations/"
                        + r.migration() + ")");
            }
            case UNCHANGED, KNOBS_CHANGED -> out.println(r.message());
            default -> {
                err.println(r.message());
                err.flush();
            }
        }
        r.warnings().forEach(out::println);
    }

    static RegistrationJson json(Registration r) {
        return new RegistrationJson(r.origin(), r.migration(), r.outcome(), r.phase() == null ? null : r.phase().label(),
                r.message(), r.problems(), r.differences(), r.warnings());
    }

    /** What {@code start} (and {@code apply}, one per file) prints for a registration with {@code --output json}. */
    @JsonPropertyOrder({"file", "migration", "outcome", "phase", "message", "problems", "differences", "warnings"})
    record RegistrationJson(String file, String migration, Registration.Outcome outcome, String phase, String message,
                            List<SpecProblem> problems, List<String> differences, List<String> warnings) {
    }

    static String readText(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED, file + ": cannot read the file: " + e.getMessage(), e);
        }
    }
}
