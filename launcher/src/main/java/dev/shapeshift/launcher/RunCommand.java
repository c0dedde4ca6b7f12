package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.drive.DriveConfig;
import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.launcher.run.AllRoles;
import dev.shapeshift.launcher.run.Operator;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.DurationText;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecReader;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.Console;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code shapeshift run SPEC}: one migration end to end in one process against your database —
 * the coordinator (driver, API, dashboard), the cdc-bridge and N workers, with a Kafka broker of
 * its own (data in {@code --data-dir}) unless {@code --bootstrap} names one. It registers the spec
 * (idempotent: the same command again after a crash resumes the same migration from the catalog,
 * the chunk checkpoints and the stored offsets), prints a status line every few seconds, and asks
 * for the two approvals on the terminal ({@code --yes} gives them as soon as their gates open).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run one migration end to end in this process: coordinator (driver, API, dashboard), cdc-bridge "
                + "and workers, with a Kafka broker of its own unless --bootstrap is given. Run the same command "
                + "again to resume.")
public final class RunCommand extends RoleCommand {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file (YAML).")
    Path specFile;

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT", description = "Kafka bootstrap servers (default: a broker in this process, data in --data-dir).")
    String bootstrap;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "The own broker's data and the dashboard token (default: .shapeshift).")
    Path dataDir = Path.of(".shapeshift");

    @Option(names = "--workers", paramLabel = "N", description = "Worker threads (default 2).")
    int workers = 2;

    @Option(names = "--partitions", paramLabel = "N", description = "Partitions of the migration's topics: the most workers that can share it (default 6).")
    int partitions = DriveConfig.DEFAULT_PARTITIONS;

    @Option(names = "--bind", paramLabel = "HOST", description = "Interface of the dashboard and API (default 127.0.0.1).")
    String bind = "127.0.0.1";

    @Option(names = "--port", paramLabel = "PORT", description = "Port of the dashboard and API (default 0: any free port, printed).")
    int port;

    @Option(names = "--yes", description = "Approve the read switch and the contract as soon as their gates open (the spec's approval fields stay the default otherwise).")
    boolean yes;

    @Option(names = "--status-every", paramLabel = "DURATION", description = "How often the status line is printed (default 5s).")
    String statusEvery = "5s";

    @Option(names = "--heartbeat", paramLabel = "DURATION", description = "The bridge's heartbeat interval (default 5s).")
    String heartbeat = "5s";

    @Mixin
    AuditOptions.ActorOnly who = new AuditOptions.ActorOnly();

    @Option(names = "--verbose", description = "Log every role's INFO lines to stderr too (default: warnings and errors only, so the status line stays readable).")
    boolean verbose;

    PrintStream out = System.out;

    @Override
    public Integer call() throws InterruptedException {
        if (kafkaSettings.file != null && bootstrap == null) {
            throw new dev.shapeshift.error.ShapeshiftException(dev.shapeshift.error.ErrorCode.USAGE, "--kafka-config "
                    + "is for a cluster of your own (--bootstrap); run's own broker needs no client settings");
        }
        kafkaSettings.apply();
        if (!verbose && System.getProperty("shapeshift.log.level") == null
                && org.slf4j.LoggerFactory.getLogger("dev.shapeshift") instanceof ch.qos.logback.classic.Logger l) {
            l.setLevel(ch.qos.logback.classic.Level.WARN);
        }
        Database database = db.database();
        MigrationSpec spec = new SpecReader().read(specFile);
        Registration r = StartCommand.registrar(db, who.actor).register(ValidateCommand.origin(specFile), spec,
                StartCommand.readText(specFile));
        java.io.PrintWriter w = new java.io.PrintWriter(out, true);
        java.io.PrintWriter e = new java.io.PrintWriter(System.err, true);
        StartCommand.print(w, e, r); // not closed: they wrap the process's streams
        w.flush();
        e.flush();
        if (!r.accepted()) {
            return StartCommand.exitCode(r);
        }
        String name = r.migration();
        Duration every = duration("--status-every", statusEvery);
        PrometheusMeterRegistry registry = RoleMeters.registry("run");
        AllRoles.Options options = new AllRoles.Options(database, bootstrap, dataDir, workers, partitions, bind, port,
                duration("--heartbeat", heartbeat));
        try (AllRoles roles = AllRoles.start(options, registry)) {
            // Ctrl-C / SIGTERM: the batches in hand commit or roll back; the next run resumes from the catalog.
            Runtime.getRuntime().addShutdownHook(new Thread(roles::close, "shapeshift-run-stop"));
            out.printf("%s: coordinator (driving), cdc-bridge, %d worker(s), Kafka %s%s%n", name, workers,
                    roles.bootstrapServers(), bootstrap == null ? " (own broker, data in " + dataDir.resolve("kafka") + ")" : "");
            out.printf("dashboard and API: http://%s:%d/ (admin token in %s)%n", bind, roles.port(),
                    dataDir.resolve("admin-token"));
            out.println("Ctrl-C stops this process; the same command resumes the migration where it is.");
            Operator operator = new Operator(database, name, "cli:" + who.actor, out, approver());
            Phase end = operator.follow(every, new Operator.Listener() {
                @Override
                public void phase(Phase from, Phase to) {
                    if (from != null) {
                        out.println("==> " + to);
                    }
                }
            });
            var cleanup = roles.finish(name, "cli:" + who.actor);
            out.println("cleaned up: " + String.join(", ", cleanup.done())
                    + (cleanup.left().isEmpty() ? "" : "; left: " + String.join(", ", cleanup.left())));
            out.println(end == Phase.CONTRACTED ? name + ": contracted and cleaned up; the old shape is archived "
                    + "(shapeshift restore " + name + " undoes the contract while the archive is kept)"
                    : name + ": " + end);
            return end == Phase.CONTRACTED ? 0 : ErrorCode.ILLEGAL_TRANSITION.exitCode();
        }
    }

    private Operator.Approver approver() {
        if (yes) {
            return Operator.Approver.YES;
        }
        Console console = System.console();
        if (console == null) {
            return Operator.Approver.NONE;
        }
        return question -> {
            String answer = console.readLine("%s [y/N] ", question);
            return answer != null && answer.strip().toLowerCase(java.util.Locale.ROOT).startsWith("y");
        };
    }

    private static Duration duration(String option, String text) {
        try {
            Duration d = DurationText.parse(text);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("not positive");
            }
            return d;
        } catch (RuntimeException e) {
            throw new ShapeshiftException(ErrorCode.USAGE, option + " must be a positive duration like 5s or 1m, got '"
                    + text + "'");
        }
    }
}
