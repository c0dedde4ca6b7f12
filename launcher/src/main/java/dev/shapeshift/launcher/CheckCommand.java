package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.contract.AwaitingContract;
import dev.shapeshift.coordinator.contract.AwaitingContract.Awaiting;
import dev.shapeshift.error.ErrorCode;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shapeshift check}: fails (exit 14) when a migration is past its {@code contract.deadline}
 * without its contract, naming each, so a CI job can refuse to go on with a forgotten contract.
 * Exit 0 otherwise; every migration awaiting its contract is listed either way.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Exit 14 when a migration is past its contract.deadline (for CI); list those awaiting their contract.")
public final class CheckCommand extends DbCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        List<Awaiting> awaiting = AwaitingContract.read(db.database());
        List<Awaiting> overdue = awaiting.stream().filter(Awaiting::pastDeadline).toList();
        PrintWriter out = command.commandLine().getOut();
        if (output.json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pastDeadline", overdue.stream().map(ListCommand::awaitingJson).toList());
            m.put("awaitingContract", awaiting.stream().map(ListCommand::awaitingJson).toList());
            out.println(OutputFormat.json(m));
        } else {
            for (Awaiting a : overdue) {
                out.println("PAST DEADLINE " + a.migration() + ": reads switched " + ListCommand.age(a.awaiting().toSeconds())
                        + " ago (" + a.readsSwitchedAt() + "), contract.deadline " + dev.shapeshift.spec.DurationText.format(a.deadline())
                        + " was due " + a.dueAt() + "; phase " + a.phase() + " — see shapeshift evidence " + a.migration());
            }
            out.println(awaiting.size() + " migration(s) awaiting their contract, " + overdue.size() + " past the deadline");
        }
        out.flush();
        return overdue.isEmpty() ? 0 : ErrorCode.CONTRACT_OVERDUE.exitCode();
    }
}
