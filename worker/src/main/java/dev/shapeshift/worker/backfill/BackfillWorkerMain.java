package dev.shapeshift.worker.backfill;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.worker.CatalogSpec;
import dev.shapeshift.worker.throttle.SyncBacklog;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one backfill worker for one migration until SIGTERM (or the JVM's shutdown):
 * <pre>
 * java -cp … dev.shapeshift.worker.backfill.BackfillWorkerMain --jdbc-url jdbc:postgresql://… \
 *     --user u --password p --bootstrap host:9092 --migration users --worker-id w1 \
 *     [--lease-timeout-ms 30000] [--session-timeout-ms 10000]
 * </pre>
 * The spec is read from the catalog and resolved against the live database.
 *
 * <p>Not a way in for operators: {@code shapeshift worker --no-sync --migration users} is (the
 * launcher's picocli command, docs/cli.md). This class and its small {@code --name value} reader are
 * kept only because the benchmark's child workers ({@code bench --worker-jvms}, in the bench package,
 * being moved to a module of its own) and {@code BackfillCrashIT} launch it by name; it goes once the
 * benchmark launches {@code dev.shapeshift.launcher.Main worker --no-sync} instead (issue 19).
 */
public final class BackfillWorkerMain {
    private static final Logger log = LoggerFactory.getLogger(BackfillWorkerMain.class);

    private BackfillWorkerMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> a = parse(args);
        Database db = new Database(required(a, "jdbc-url"), required(a, "user"), a.getOrDefault("password", ""));
        String migration = required(a, "migration");
        BackfillConfig defaults = BackfillConfig.defaults(required(a, "worker-id"));
        BackfillConfig config = new BackfillConfig(defaults.workerId(),
                Duration.ofMillis(Long.parseLong(a.getOrDefault("lease-timeout-ms", "" + defaults.leaseTimeout().toMillis()))),
                defaults.limits(), defaults.signalRefresh(),
                Duration.ofMillis(Long.parseLong(a.getOrDefault("session-timeout-ms", "" + defaults.sessionTimeout().toMillis()))),
                defaults.statusInterval());
        CatalogSchema.migrate(db);
        ResolvedSpec resolved = CatalogSpec.resolve(db, migration);
        ChunkConsumer consumer = new ChunkConsumer(db, required(a, "bootstrap"), resolved, config, SyncBacklog.NONE);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread worker = new Thread(() -> {
            try {
                consumer.run();
            } finally {
                stopped.countDown();
            }
        }, "backfill-" + config.workerId());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping backfill worker migration={} worker={}", migration, config.workerId());
            consumer.close();
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "backfill-shutdown"));
        try (ProgressReporter reporter = new ProgressReporter(new ChunkStore(new Catalog(db, "worker")), migration,
                consumer::throttleReason, config.statusInterval())) {
            worker.start();
            stopped.await();
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new ShapeshiftException(ErrorCode.USAGE, "expected --name value pairs, got '" + args[i] + "'");
            }
            out.put(args[i].substring(2), args[++i]);
        }
        return out;
    }

    private static String required(Map<String, String> a, String name) {
        String v = a.get(name);
        if (v == null || v.isBlank()) {
            throw new ShapeshiftException(ErrorCode.USAGE, "missing --" + name);
        }
        return v;
    }
}
