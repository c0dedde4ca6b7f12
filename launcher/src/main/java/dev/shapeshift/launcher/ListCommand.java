package dev.shapeshift.launcher;

import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.api.Json;
import dev.shapeshift.coordinator.contract.AwaitingContract;
import dev.shapeshift.coordinator.contract.AwaitingContract.Awaiting;
import dev.shapeshift.spec.DurationText;
import dev.shapeshift.coordinator.gate.StoredSpec;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.phase.PhasePlan;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shapeshift list} (and {@code shapeshift status} without a name): every migration, its
 * phase, how long it has been in it, what it waits for and its message, from the catalog. "Waits
 * for" is derived from the phase and the spec's phase order: {@code verified} waits for the
 * read-switch approval (with a write switch: dual writes; then the read and the write switch),
 * unless the spec makes them automatic, {@code contract-ready} for the contract approval.
 */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "List every migration: phase, time in phase, what it waits for (approvals), message.")
public final class ListCommand extends DbCommand implements Callable<Integer> {
    @Option(names = "--awaiting-contract", description = "Only migrations whose reads are switched but whose contract is "
            + "not done (reads-switched, writes-switched, contract-ready): time since the read switch, contract.deadline "
            + "and when it is due.")
    boolean awaitingContract;

    /**
     * One line of the list.
     *
     * @param waitingFor       what the migration waits for, in words
     * @param awaitingApproval whether that is an operator's approval
     */
    record Row(String name, String phase, Instant phaseSince, long secondsInPhase, String waitingFor,
               boolean awaitingApproval, String message) {
    }

    @Override
    public Integer call() {
        if (awaitingContract) {
            printAwaiting(command.commandLine().getOut(), AwaitingContract.read(db.database()), output);
            return 0;
        }
        print(command.commandLine().getOut(), rows(db.catalog().list(), Instant.now()), output);
        return 0;
    }

    static void print(PrintWriter out, List<Row> rows, OutputOptions output) {
        if (output.json()) {
            out.println(Json.write(rows));
        } else if (rows.isEmpty()) {
            out.println("no migrations in the catalog (register one with shapeshift start SPEC)");
        } else {
            String format = "%-28s %-15s %-9s %s%n";
            out.printf(format, "MIGRATION", "PHASE", "IN PHASE", "WAITS FOR — MESSAGE");
            for (Row r : rows) {
                out.printf(format, r.name(), r.phase(), age(r.secondsInPhase()),
                        (r.awaitingApproval() ? "APPROVAL: " : "") + r.waitingFor()
                                + (r.message() == null || r.message().isBlank() ? "" : " — " + r.message()));
            }
            long approvals = rows.stream().filter(Row::awaitingApproval).count();
            out.println(rows.size() + " migration(s), " + approvals + " waiting for approval");
        }
        out.flush();
    }

    static void printAwaiting(PrintWriter out, List<Awaiting> rows, OutputOptions output) {
        if (output.json()) {
            out.println(OutputFormat.json(rows.stream().map(ListCommand::awaitingJson).toList()));
        } else if (rows.isEmpty()) {
            out.println("no migration awaits its contract");
        } else {
            String format = "%-28s %-15s %-15s %-9s %s%n";
            out.printf(format, "MIGRATION", "PHASE", "READS SWITCHED", "DEADLINE", "DUE");
            for (Awaiting a : rows) {
                out.printf(format, a.migration(), a.phase(), age(a.awaiting().toSeconds()) + " ago",
                        a.deadline() == null ? "none" : DurationText.format(a.deadline()),
                        a.dueAt() == null ? "-" : a.dueAt() + (a.pastDeadline() ? " PAST DEADLINE" : ""));
            }
            long overdue = rows.stream().filter(Awaiting::pastDeadline).count();
            out.println(rows.size() + " migration(s) awaiting their contract, " + overdue + " past the deadline");
        }
        out.flush();
    }

    static Map<String, Object> awaitingJson(Awaiting a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", a.migration());
        m.put("phase", a.phase());
        m.put("readsSwitchedAt", a.readsSwitchedAt().toString());
        m.put("secondsAwaiting", a.awaiting().toSeconds());
        m.put("deadline", a.deadline() == null ? null : DurationText.format(a.deadline()));
        m.put("dueAt", a.dueAt() == null ? null : a.dueAt().toString());
        m.put("pastDeadline", a.pastDeadline());
        return m;
    }

    static List<Row> rows(List<MigrationRecord> migrations, Instant now) {
        return migrations.stream().map(m -> {
            long seconds = m.phaseChangedAt() == null ? 0 : Math.max(0, Duration.between(m.phaseChangedAt(), now).toSeconds());
            Phase p = m.phase();
            PhasePlan plan = StoredSpec.of(m).plan();
            return new Row(m.name(), p.label(), m.phaseChangedAt(), seconds, waitingFor(p, m.name(), plan),
                    approval(p, plan), m.message());
        }).toList();
    }

    /**
     * Whether the phase waits for an operator: the moves the spec's {@code switch.approval} governs
     * (the read switch, and with a write switch the start of dual writes and the write switch) and
     * the contract ({@code contract-ready}).
     */
    static boolean approval(Phase p, PhasePlan plan) {
        return p == Phase.CONTRACT_READY || switchMove(p, plan) != null;
    }

    /** The next move of the plan that {@code switch.approval} governs, from {@code p}; null if the next move is not one. */
    private static Phase switchMove(Phase p, PhasePlan plan) {
        if (!plan.contains(p) || p.compareTo(Phase.VERIFIED) < 0) {
            return null;
        }
        Phase next = plan.next(p).orElse(null);
        return next == Phase.DUAL_WRITES || next == Phase.READS_SWITCHED || next == Phase.WRITES_SWITCHED ? next : null;
    }

    static String waitingFor(Phase p, String name, PhasePlan plan) {
        Phase move = switchMove(p, plan);
        if (move != null) {
            String what = switch (move) {
                case DUAL_WRITES -> "dual writes (deploy the application version that writes both shapes; unless "
                        + "switch.approval: auto)";
                case WRITES_SWITCHED -> "write switch (unless switch.approval: auto" + (p == Phase.DUAL_WRITES
                        ? "; after writes.cleanFor without a dual-write mismatch)" : ")");
                default -> "read switch (unless switch.approval: auto" + (p == Phase.DUAL_WRITES
                        ? "; after writes.cleanFor without a dual-write mismatch)" : ")");
            };
            return what + ": shapeshift phase advance " + name + " --to " + move.label() + " --reason …";
        }
        return switch (p) {
            case PLANNED -> "the coordinator's driver to expand it";
            case READS_SWITCHED, WRITES_SWITCHED -> "contract evidence: nothing may use the old shape for contract.quietPeriod";
            case CONTRACT_READY -> "contract: shapeshift contract " + name + " --reason …";
            case CONTRACTED, ROLLED_BACK -> "nothing (finished)";
            default -> "the coordinator's driver (automatic)";
        };
    }

    /** {@code 45s}, {@code 12m}, {@code 3h 20m}, {@code 2d 4h}. */
    static String age(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return seconds / 60 + "m";
        }
        if (seconds < 86400) {
            return seconds / 3600 + "h " + seconds % 3600 / 60 + "m";
        }
        return seconds / 86400 + "d " + seconds % 86400 / 3600 + "h";
    }
}
