package dev.shapeshift.worker.sync;

import dev.shapeshift.bridge.BridgeProcess;
import dev.shapeshift.db.Database;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.WorkerProcess;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;

/**
 * A role of {@link SyncCrashIT} in a JVM of its own ({@link SyncFixture#bridgeChild},
 * {@link SyncFixture#workerChild}), so that it can be killed. The arguments are positional — the role
 * ({@code bridge} or {@code worker}), JDBC URL, user, password, bootstrap servers, then the slot
 * (bridge) or the worker id and the migration (worker) — and the rest is the fixture's configuration.
 * The roles' command line is the launcher's ({@code shapeshift cdc-bridge}, {@code shapeshift worker}),
 * which this module's tests cannot reach; scenarios run that one.
 */
public final class SyncChild {
    private SyncChild() {
    }

    public static void main(String[] a) throws InterruptedException {
        Database db = new Database(a[1], a[2], a[3]);
        int exit = switch (a[0]) {
            case "bridge" -> BridgeProcess.run(SyncFixture.bridgeConfig(db, a[4], a[5]), new SimpleMeterRegistry());
            case "worker" -> WorkerProcess.run(db, a[4], Worker.Config.of(a[5], List.of(a[6]))
                    .withBackfill(false)
                    .withSessionTimeout(Duration.ofSeconds(6)), new SimpleMeterRegistry());
            default -> throw new IllegalArgumentException("role 'bridge' or 'worker', got '" + a[0] + "'");
        };
        if (exit != 0 && a[0].equals("bridge")) {
            Runtime.getRuntime().halt(exit); // as the bridge's process always has: no shutdown hooks after a failure
        } else if (exit != 0) {
            System.exit(exit);
        }
    }
}
