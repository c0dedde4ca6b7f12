package dev.shapeshift.bridge;

import dev.shapeshift.db.Database;
import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a bridge as a process: {@code --jdbc-url --user --password --bootstrap [--slot]
 * [--publication] [--heartbeat-ms] [--replication] [--partitions] [--watch-ms]}. Stops cleanly
 * on SIGTERM (shutdown hook). Exit code: 0 after a clean stop, the error code's otherwise.
 */
public final class BridgeMain {
    private static final Logger log = LoggerFactory.getLogger(BridgeMain.class);

    private BridgeMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        BridgeConfig config;
        try {
            config = parse(args);
        } catch (ShapeshiftException | IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        int code = run(config, new SimpleMeterRegistry());
        if (code != 0) {
            Runtime.getRuntime().halt(code);
        }
    }

    /**
     * Runs a bridge (standby until it holds the leadership) until the JVM shuts down or the bridge
     * fails; for the launcher's {@code cdc-bridge} subcommand. Returns 0, or the failure's exit code.
     */
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

    static BridgeConfig parse(String[] args) {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: --jdbc-url URL --user U --password P --bootstrap HOST:PORT "
                        + "[--slot S] [--publication P] [--heartbeat-ms N] [--replication N] [--partitions N] "
                        + "[--watch-ms N]; bad argument: " + args[i]);
            }
            a.put(args[i].substring(2), args[++i]);
        }
        BridgeConfig c = BridgeConfig.of(new Database(a.get("jdbc-url"), a.get("user"), a.get("password")),
                a.get("bootstrap"));
        if (a.containsKey("slot")) {
            c = c.withSlot(a.get("slot"));
        }
        if (a.containsKey("publication")) {
            c = c.withPublication(a.get("publication"));
        }
        if (a.containsKey("heartbeat-ms")) {
            c = c.withHeartbeat(Duration.ofMillis(Long.parseLong(a.get("heartbeat-ms"))));
        }
        if (a.containsKey("replication") || a.containsKey("partitions")) {
            c = c.withReplication(Short.parseShort(a.getOrDefault("replication", "3")),
                    Integer.parseInt(a.getOrDefault("partitions", "12")));
        }
        if (a.containsKey("watch-ms")) {
            c = c.withWatchInterval(Duration.ofMillis(Long.parseLong(a.get("watch-ms"))));
        }
        return c;
    }
}
