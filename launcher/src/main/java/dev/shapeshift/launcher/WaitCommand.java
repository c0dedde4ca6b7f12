package dev.shapeshift.launcher;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.coordinator.gate.StoredSpec;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.spec.DurationText;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code shapeshift wait MIGRATION --for PHASE [--timeout T]}: blocks until the migration is in
 * {@code PHASE} or past it on the way to the contract, for scripts and CI jobs (the way
 * {@code kubectl wait} is used). Prints each phase and driver message it sees on the way. Exit 0 when
 * reached; 13 ({@code TIMED_OUT}) when the time ran out; 12 when the migration can no longer get
 * there (rolled back, or waiting for {@code rolled-back} of one that contracted).
 */
@Command(name = "wait", mixinStandardHelpOptions = true,
        description = "Block until a migration reaches a phase (or passes it); for scripts and CI.")
public final class WaitCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MIGRATION", description = "The migration.")
    String migration;

    @Option(names = "--for", required = true, paramLabel = "PHASE",
            description = "The phase to wait for, e.g. verified, dual-writes, writes-switched, contract-ready, contracted, rolled-back.")
    String phase;

    @Option(names = "--timeout", paramLabel = "DURATION", description = "Give up after this long (default 1h; e.g. 90s, 30m).")
    String timeout = "1h";

    @Option(names = "--interval", paramLabel = "DURATION", description = "How often to look (default 2s).")
    String interval = "2s";

    @Option(names = "--quiet", description = "Print nothing on the way; only the exit code and the last line.")
    boolean quiet;

    @Mixin
    DbOptions db = new DbOptions();

    @Spec
    CommandSpec command;

    @Override
    public Integer call() throws InterruptedException {
        Phase target;
        try {
            target = Phase.fromLabel(phase);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(command.commandLine(),
                    "--for: unknown phase '" + phase + "'; one of " + java.util.Arrays.stream(Phase.values())
                            .map(Phase::label).toList());
        }
        Duration limit = DurationText.parse(timeout);
        Duration every = DurationText.parse(interval);
        Catalog catalog = db.catalog();
        PrintWriter out = command.commandLine().getOut();
        Instant deadline = Instant.now().plus(limit);
        String last = null;
        while (true) {
            MigrationRecord m = catalog.get(migration);
            String line = m.phase().label() + (m.message() == null ? "" : " — " + m.message());
            if (!quiet && !Objects.equals(line, last)) {
                out.println(Instant.now().truncatedTo(ChronoUnit.SECONDS) + " " + migration + ": " + line);
                out.flush();
            }
            last = line;
            PhasePlan plan = StoredSpec.of(m).plan();
            if (target != Phase.ROLLED_BACK && !plan.contains(target)) {
                throw new ShapeshiftException(ErrorCode.ILLEGAL_TRANSITION, migration + " never reaches " + target.label()
                        + ": its phases are " + plan.order().stream().map(Phase::label).toList()
                        + (plan.switchesWrites() ? "" : " (no write switch: writes.switch is false)"));
            }
            switch (outcome(m.phase(), target, plan)) {
                case REACHED -> {
                    out.println(migration + " is " + m.phase().label() + (m.phase() == target ? "" : " (past " + target.label() + ")"));
                    out.flush();
                    return 0;
                }
                case NEVER -> throw new ShapeshiftException(ErrorCode.ILLEGAL_TRANSITION, migration + " is "
                        + m.phase().label() + " and can no longer reach " + target.label());
                case NOT_YET -> {
                }
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new ShapeshiftException(ErrorCode.TIMED_OUT, migration + " did not reach " + target.label()
                        + " within " + timeout + "; it is " + line + " (`shapeshift status " + migration + "` says why)");
            }
            Thread.sleep(Math.max(50, Math.min(every.toMillis(), Duration.between(Instant.now(), deadline).toMillis())));
        }
    }

    enum Outcome { REACHED, NOT_YET, NEVER }

    /**
     * Whether {@code now} is {@code target} or past it on the way to the contract. A rolled-back
     * migration reaches nothing else; {@code rolled-back} is reached only by rolling back. Moves
     * back (verified → backfilled after drift, reads-switched → verified) make an earlier
     * phase current again, so a phase passed once may be "not yet" again later: the answer is
     * about now. "Past" is in the migration's own order ({@link PhasePlan}: with a write switch and
     * {@code writes.order: reads-first}, {@code reads-switched} comes before {@code dual-writes});
     * a phase not in its order is never reached.
     */
    static Outcome outcome(Phase now, Phase target, PhasePlan plan) {
        if (target == Phase.ROLLED_BACK) {
            return now == Phase.ROLLED_BACK ? Outcome.REACHED : now == Phase.CONTRACTED ? Outcome.NEVER : Outcome.NOT_YET;
        }
        if (now == Phase.ROLLED_BACK || !plan.contains(target)) {
            return Outcome.NEVER;
        }
        return plan.order().indexOf(now) >= plan.order().indexOf(target) ? Outcome.REACHED : Outcome.NOT_YET;
    }
}
