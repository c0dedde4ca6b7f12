package dev.shapeshift.bridge;

import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bridge as a process: a standby until it holds the leadership, then streaming, until the JVM
 * shuts down (SIGTERM: a clean stop) or the bridge fails. Its command line is the launcher's
 * {@code shapeshift cdc-bridge} (docs/cli.md); this class parses none.
 */
public final class BridgeProcess {
    private static final Logger log = LoggerFactory.getLogger(BridgeProcess.class);

    private BridgeProcess() {
    }

    /** Runs a bridge until the JVM shuts down or the bridge fails. Returns 0, or the failure's exit code. */
    public static int run(BridgeConfig config, MeterRegistry registry) throws InterruptedException {
        CdcBridge bridge = new CdcBridge(config, registry);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("shutdown requested slot={}", config.slot());
            bridge.stop();
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "shapeshift-bridge-shutdown"));
        bridge.start();
        while (!bridge.state().terminal()) {
            Thread.sleep(200);
        }
        stopped.countDown();
        if (bridge.state() == BridgeState.FAILED) {
            Throwable why = bridge.failure().orElse(null);
            System.err.println("bridge failed: " + (why == null ? "unknown" : why.getMessage()));
            return why instanceof ShapeshiftException se ? se.code().exitCode() : 1;
        }
        return 0;
    }
}
