package dev.shapeshift.worker;

import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker role as a process: started, then kept until the JVM shuts down (SIGTERM, SIGINT),
 * which closes it cleanly — the batch in hand commits or rolls back, chunk leases are given back.
 * Its command line is the launcher's {@code shapeshift worker} (docs/cli.md); this class parses none.
 */
public final class WorkerProcess {
    private static final Logger log = LoggerFactory.getLogger(WorkerProcess.class);

    private WorkerProcess() {
    }

    /**
     * Starts a worker and blocks until the JVM shuts down. Returns 0, or the exit code
     * ({@link ErrorCode#exitCode()}) of the failure that prevented the start.
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
}
