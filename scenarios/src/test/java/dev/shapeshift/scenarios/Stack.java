package dev.shapeshift.scenarios;

import static org.awaitility.Awaitility.await;

import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The roles that run as child JVMs in a scenario — cdc-bridges and workers — started from this
 * JVM's class path, so they can be killed (SIGKILL), frozen (SIGSTOP) and woken (SIGCONT) like pods.
 * Logs go to {@code target/scenario-logs/<run>/}. {@link #close()} wakes and kills what is left.
 */
final class Stack implements AutoCloseable {
    static final int PARTITIONS = 3;
    static final int SESSION_TIMEOUT_MS = 6000;

    private final Database db;
    private final String bootstrap;
    final String slot;
    final String publication;
    private final Path logs;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private Duration leaseTimeout;

    Stack(Database db, String bootstrap, String run) throws IOException {
        this.db = db;
        this.bootstrap = bootstrap;
        this.slot = "s_" + run.replaceAll("[^a-z0-9_]", "_");
        this.publication = "p_" + slot;
        this.logs = Files.createDirectories(Path.of("target", "scenario-logs", run));
    }

    Process bridge(String name) throws IOException {
        return child(name, StackChild.class.getName(), "bridge", db.jdbcUrl(), db.user(), db.password(), bootstrap,
                slot, publication);
    }

    /** Workers started after this run with {@code --lease-timeout-ms}; before it, with the default (30 s). */
    void leaseTimeout(Duration d) {
        this.leaseTimeout = d;
    }

    Process worker(String id, String migration) throws IOException {
        return child(id, StackChild.class.getName(), "worker", db.jdbcUrl(), db.user(), db.password(), bootstrap, id,
                migration, leaseTimeout == null ? "" : Long.toString(leaseTimeout.toMillis()));
    }

    /** Another process of the run (e.g. the translation service), started and killed like the roles. */
    Process start(String name, String main, String... args) throws IOException {
        return child(name, main, args);
    }

    Process process(String name) {
        Process p = processes.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no child process " + name + "; have " + processes.keySet());
        }
        return p;
    }

    List<String> workers() {
        return processes.keySet().stream().filter(n -> n.startsWith("w")).toList();
    }

    /** SIGKILL, and wait until it is gone. */
    void kill(String name) throws InterruptedException {
        Process p = process(name);
        p.destroyForcibly();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " survived SIGKILL");
        }
    }

    void signal(String name, String signal) throws IOException, InterruptedException {
        ChildJvm.signal(process(name), signal);
    }

    Path logs() {
        return logs;
    }

    private Process child(String name, String main, String... args) throws IOException {
        Path log = logs.resolve(name + ".log");
        Process p = ChildJvm.main(main).options("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC").args(args)
                .startAppendingTo(log);
        processes.put(name, p);
        System.out.printf("CHILD %s pid=%d log=%s%n", name, p.pid(), log);
        return p;
    }

    @Override
    public void close() {
        ChildJvm.killAll(processes.values());
        dropSlot();
    }

    /**
     * Drops the run's replication slot and publication once the bridges are gone: the test
     * server is shared by every scenario of the module, and a slot left behind both retains WAL
     * and takes one of its {@code max_replication_slots}.
     */
    private void dropSlot() {
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                try (Connection c = db.connect("test-cleanup"); PreparedStatement ps = c.prepareStatement(
                        "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots "
                                + "WHERE slot_name = ? AND NOT active")) {
                    ps.setString(1, slot);
                    ps.executeQuery().close();
                    try (PreparedStatement left = c.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?")) {
                        left.setString(1, slot);
                        try (ResultSet rs = left.executeQuery()) {
                            return !rs.next();
                        }
                    }
                }
            });
            try (Connection c = db.connect("test-cleanup"); Statement s = c.createStatement()) {
                s.execute("DROP PUBLICATION IF EXISTS " + publication);
            }
        } catch (SQLException | RuntimeException e) {
            System.out.printf("CLEANUP slot %s not dropped: %s%n", slot, e);
        }
    }
}
