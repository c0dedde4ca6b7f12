package dev.shapeshift.launcher.bench;

import static dev.shapeshift.launcher.bench.SyncBench.MIGRATION;

import dev.shapeshift.db.Database;
import dev.shapeshift.launcher.bench.SyncBench.Options;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bench sync --role-jvms}: the cdc-bridge and the worker as child JVMs started with the CLI
 * a user runs ({@code shapeshift cdc-bridge}, {@code shapeshift worker}), optionally recorded with
 * JFR; the bridge runs for the whole bench, a worker for one run.
 */
final class SyncRoleJvms implements AutoCloseable {
    private final RoleJvms roles;
    private final List<String> conn;

    private SyncRoleJvms(RoleJvms roles, List<String> conn) {
        this.roles = roles;
        this.conn = conn;
    }

    /** Starts the cdc-bridge in its own JVM, as {@code shapeshift cdc-bridge} runs it. */
    static SyncRoleJvms start(Options o, Database db, String bootstrap) throws IOException {
        Path dir = Files.createDirectories(o.out().resolve("sync-role-jvms-" + System.currentTimeMillis()));
        List<String> conn = RoleJvms.connectionArgs(dir, db);
        List<String> jvm = new ArrayList<>(List.of("-Xmx256m"));
        if (o.jfr() != null) {
            Files.createDirectories(o.jfr());
            jvm.add("-XX:StartFlightRecording=filename=" + o.jfr().resolve("{role}.jfr") + ",settings=profile");
        }
        SyncRoleJvms started = new SyncRoleJvms(new RoleJvms(dir, jvm), conn);
        List<String> bridgeArgs = new ArrayList<>(List.of("cdc-bridge", "--bootstrap", bootstrap, "--partitions",
                Integer.toString(o.partitions()), "--replication", "1", "--heartbeat-ms", "1000"));
        bridgeArgs.addAll(conn);
        started.roles.start("cdc-bridge", bridgeArgs);
        return started;
    }

    /** A worker JVM (sync only) for one run, stopped when the run ends. */
    AutoCloseable worker(String bootstrap) throws IOException {
        List<String> args = new ArrayList<>(List.of("worker", "--bootstrap", bootstrap, "--worker-id", "bench-sync-worker",
                "--migration", MIGRATION, "--no-backfill"));
        args.addAll(conn);
        roles.start("worker", args);
        return () -> roles.stop("worker");
    }

    @Override
    public void close() throws InterruptedException {
        roles.close();
    }
}
