package dev.shapeshift.worker;

import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the worker role as a process until SIGTERM:
 * <pre>
 * java -cp … dev.shapeshift.worker.WorkerMain --jdbc-url jdbc:postgresql://… --user u --password p \
 *     --bootstrap host:9092 --worker-id w1 [--migration users]… [--no-backfill] [--no-sync] \
 *     [--session-timeout-ms 10000] [--lease-timeout-ms 30000] [--watch-ms 10000]
 * </pre>
 * Without {@code --migration} it serves every active migration and follows the catalog. The
 * shutdown hook closes the worker: the batch in hand commits or rolls back, chunk leases are given
 * back. Exit code 2 for bad arguments, the error code's ({@link ErrorCode#exitCode()}) if the start fails.
 */
public final class WorkerMain {
    private static final Logger log = LoggerFactory.getLogger(WorkerMain.class);
    private static final Set<String> FLAGS = Set.of("no-backfill", "no-sync");
    private static final String USAGE = "usage: --jdbc-url URL --user U --password P --bootstrap HOST:PORT "
            + "--worker-id ID [--migration NAME]... [--no-backfill] [--no-sync] [--session-timeout-ms N] "
            + "[--lease-timeout-ms N] [--watch-ms N]";

    /** Parsed command line. */
    public record Args(Database database, String bootstrapServers, Worker.Config config) {
    }

    private WorkerMain() {
    }

    public static void main(String[] argv) {
        Args args;
        try {
            args = parse(argv);
        } catch (ShapeshiftException | IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        int exit = run(args.database(), args.bootstrapServers(), args.config(), new SimpleMeterRegistry());
        if (exit != 0) {
            System.exit(exit);
        }
    }

    /**
     * Starts a worker and blocks until the JVM shuts down (SIGTERM, SIGINT), which closes it cleanly.
     * For the launcher's {@code worker} subcommand. Returns 0, or the exit code of the failure that
     * prevented the start.
     */
    public static int run(Database db, String bootstrapServers, Worker.Config config, MeterRegistry registry) {
        Worker worker;
        try {
            worker = new Worker(db, bootstrapServers, config, registry);
            worker.start();
        } catch (ShapeshiftException e) {
            log.error("worker failed to start worker={} code={} error={}", config.workerId(), e.code(), e.getMessage());
            System.err.println("worker failed to start: " + e.getMessage());
            return e.code().exitCode();
        }
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("shutdown requested worker={}", config.workerId());
            worker.close();
            closed.countDown();
        }, "worker-shutdown-" + config.workerId()));
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            worker.close();
        }
        return 0;
    }

    public static Args parse(String[] argv) {
        Map<String, String> a = new HashMap<>();
        List<String> migrations = new ArrayList<>();
        for (int i = 0; i < argv.length; i++) {
            String arg = argv[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'");
            }
            String name = arg.substring(2);
            if (FLAGS.contains(name)) {
                a.put(name, "true");
                continue;
            }
            if (i + 1 >= argv.length) {
                throw new IllegalArgumentException("--" + name + " needs a value");
            }
            String value = argv[++i];
            if (name.equals("migration")) {
                migrations.add(value);
            } else if (Set.of("jdbc-url", "user", "password", "bootstrap", "worker-id", "session-timeout-ms",
                    "lease-timeout-ms", "watch-ms").contains(name)) {
                a.put(name, value);
            } else {
                throw new IllegalArgumentException("unknown option --" + name);
            }
        }
        Database db = new Database(required(a, "jdbc-url"), required(a, "user"), a.getOrDefault("password", ""));
        Worker.Config config = Worker.Config.of(required(a, "worker-id"), migrations)
                .withSync(!a.containsKey("no-sync"))
                .withBackfill(!a.containsKey("no-backfill"));
        if (a.containsKey("session-timeout-ms")) {
            config = config.withSessionTimeout(Duration.ofMillis(number(a, "session-timeout-ms")));
        }
        if (a.containsKey("lease-timeout-ms")) {
            config = config.withLeaseTimeout(Duration.ofMillis(number(a, "lease-timeout-ms")));
        }
        if (a.containsKey("watch-ms")) {
            config = config.withWatchInterval(Duration.ofMillis(number(a, "watch-ms")));
        }
        return new Args(db, required(a, "bootstrap"), config);
    }

    private static long number(Map<String, String> a, String name) {
        try {
            return Long.parseLong(a.get(name));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a number of milliseconds, got '" + a.get(name) + "'");
        }
    }

    private static String required(Map<String, String> a, String name) {
        String v = a.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return v;
    }
}
