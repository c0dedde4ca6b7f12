package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.coordinator.register.Registration.Outcome;
import dev.shapeshift.coordinator.register.SpecsDir;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code shapeshift apply DIR}: {@code start} for every {@code *.yaml} / {@code *.yml} file of a
 * directory. A bad file is reported (file, field, fix) and the others still go on; the exit code
 * is non-zero if any file was refused (10 invalid, else 6 conflicting). Re-running it is safe.
 */
@Command(name = "apply", mixinStandardHelpOptions = true,
        description = "Register every spec file (*.yaml, *.yml) of a directory; bad files are reported, the others go on.")
public final class ApplyCommand extends RegisterCommand {
    @Parameters(index = "0", paramLabel = "DIR", description = "The directory of spec files (not recursive).")
    Path dir;

    @Override
    public Integer call() {
        if (SpecsDir.files(dir).isEmpty()) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED, dir + ": no spec files (*.yaml, *.yml) — name the "
                    + "directory that holds them");
        }
        List<Registration> results = new SpecsDir(dir, registrar()).apply().files();
        PrintWriter out = command.commandLine().getOut();
        PrintWriter err = command.commandLine().getErr();
        if (output.json()) {
            out.println(OutputFormat.json(results.stream().map(StartCommand::json).toList()));
        } else {
            results.forEach(r -> StartCommand.print(out, err, r));
            long refused = results.stream().filter(r -> !r.accepted()).count();
            out.println(results.size() + " file(s): " + (results.size() - refused) + " accepted, " + refused + " refused");
        }
        out.flush();
        if (results.stream().anyMatch(r -> r.outcome() == Outcome.INVALID)) {
            return ErrorCode.SPEC_INVALID.exitCode();
        }
        return results.stream().anyMatch(r -> r.outcome() == Outcome.CONFLICT) ? ErrorCode.CONFLICT.exitCode() : 0;
    }
}
