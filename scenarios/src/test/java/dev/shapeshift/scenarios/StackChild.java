package dev.shapeshift.scenarios;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.BridgeProcess;
import dev.shapeshift.db.Database;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.WorkerProcess;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;

/**
 * A role of a {@link Stack} in a JVM of its own. The arguments are positional — the role
 * ({@code bridge} or {@code worker}), JDBC URL, user, password, bootstrap servers, then the slot and
 * publication (bridge) or the worker id, the migration and the lease timeout in ms or {@code ""} for
 * the default (worker) — and the rest is the scenarios' configuration: 1 s heartbeats, one replica,
 * {@link Stack#PARTITIONS} partitions, a 6 s session timeout, the catalog looked at every 500 ms
 * (bridge) or 2 s (worker). Operators start the roles with the launcher ({@code shapeshift
 * cdc-bridge}, {@code shapeshift worker}); what they do once started is this.
 */
public final class StackChild {
    private StackChild() {
    }

    public static void main(String[] a) throws InterruptedException {
        Database db = new Database(a[1], a[2], a[3]);
        String bootstrap = a[4];
        int exit = switch (a[0]) {
            case "bridge" -> BridgeProcess.run(BridgeConfig.of(db, bootstrap).withSlot(a[5])
                    .withPublication(a[6])
                    .withHeartbeat(Duration.ofSeconds(1))
                    .withReplication((short) 1)
                    .withChangesPartitions(Stack.PARTITIONS)
                    .withWatchInterval(Duration.ofMillis(500)), new SimpleMeterRegistry());
            case "worker" -> {
                Worker.Config config = Worker.Config.of(a[5], List.of(a[6]))
                        .withSessionTimeout(Duration.ofMillis(Stack.SESSION_TIMEOUT_MS))
                        .withWatchInterval(Duration.ofSeconds(2));
                yield WorkerProcess.run(db, bootstrap, a[7].isEmpty() ? config
                        : config
                                .withLeaseTimeout(Duration.ofMillis(Long.parseLong(a[7]))), new SimpleMeterRegistry());
            }
            default -> throw new IllegalArgumentException("role 'bridge' or 'worker', got '" + a[0] + "'");
        };
        if (exit != 0 && a[0].equals("bridge")) {
            Runtime.getRuntime().halt(exit); // as the bridge's process always has: no shutdown hooks after a failure
        } else if (exit != 0) {
            System.exit(exit);
        }
    }
}
