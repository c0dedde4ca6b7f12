package dev.shapeshift.bridge;

import dev.shapeshift.db.Database;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * {@link FailoverIT}'s leader in a JVM of its own, so that it can be killed: the bridge of
 * {@link BridgeFixture#config(Database, String, String)}. The arguments are positional — JDBC URL,
 * user, password, bootstrap servers, slot. The bridge's command line is the launcher's
 * ({@code shapeshift cdc-bridge}), which this module's tests cannot reach; scenarios run that one.
 */
public final class BridgeChild {
    private BridgeChild() {
    }

    public static void main(String[] a) throws InterruptedException {
        int exit = BridgeProcess.run(BridgeFixture.config(new Database(a[0], a[1], a[2]), a[3], a[4]),
                new SimpleMeterRegistry());
        if (exit != 0) {
            Runtime.getRuntime().halt(exit); // as the bridge's process always has: no shutdown hooks after a failure
        }
    }
}
