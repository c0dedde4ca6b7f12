package dev.shapeshift.launcher.bench;

import dev.shapeshift.db.Database;
import dev.shapeshift.launcher.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shapeshift's roles as child JVMs started with the commands a user runs ({@code java -cp <this jar>
 * dev.shapeshift.launcher.Main coordinator|cdc-bridge|worker …}), each incarnation's output in
 * {@code dir/<role>-<n>.log}. A role can be killed with SIGKILL and started again with the same
 * arguments; {@link #sample} reads each live child's resident memory, open file descriptors and
 * threads from {@code /proc/<pid>} (Linux only: elsewhere the figures are -1).
 */
final class RoleJvms implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RoleJvms.class);

    /** One live process of a role. */
    record Incarnation(String role, int number, Process process, Path log, long startedAtMs) {
    }

    /** What /proc said about one process at one moment. */
    record Usage(long rssKb, int fds, int threads) {
    }

    private final Path dir;
    private final List<String> jvmOptions;
    private final Map<String, List<String>> args = new LinkedHashMap<>();
    private final Map<String, Incarnation> live = new LinkedHashMap<>();
    private final Map<String, Integer> count = new LinkedHashMap<>();

    RoleJvms(Path dir, List<String> jvmOptions) {
        this.dir = dir;
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    /**
     * The options that point a role at {@code db} as a user's command line does: the password in
     * {@code dir/db-password} ({@code --password-file}), never on the command line.
     */
    static List<String> connectionArgs(Path dir, Database db) throws IOException {
        Path password = Files.writeString(dir.resolve("db-password"), db.password());
        return List.of("--jdbc-url", db.jdbcUrl(), "--user", db.user(), "--password-file", password.toString());
    }

    synchronized Incarnation start(String role, List<String> mainArgs) throws IOException {
        args.put(role, List.copyOf(mainArgs));
        return restart(role);
    }

    /** Starts the role again with the arguments it was first started with. */
    synchronized Incarnation restart(String role) throws IOException {
        int n = count.merge(role, 1, Integer::sum);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        // {role} in an option names this incarnation (e.g. a JFR file per role JVM)
        cmd.addAll(jvmOptions.stream().map(x -> x.replace("{role}", role + "-" + n)).toList());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args.get(role));
        Path logFile = dir.resolve(role + "-" + n + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        Incarnation i = new Incarnation(role, n, p, logFile, System.currentTimeMillis());
        live.put(role, i);
        log.info("role started role={} incarnation={} pid={} log={}", role, n, p.pid(), logFile);
        return i;
    }

    /** SIGKILL (no shutdown hook runs), and waits until the process is gone. */
    synchronized Incarnation kill(String role) throws InterruptedException {
        Incarnation i = live.get(role);
        i.process().destroyForcibly();
        if (!i.process().waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("soak: " + role + " pid " + i.process().pid() + " survived SIGKILL for 30 s");
        }
        return i;
    }

    /** SIGTERM (shutdown hooks run: the role leaves its group, a JFR recording is written), SIGKILL after 30 s. */
    synchronized Incarnation stop(String role) throws InterruptedException {
        Incarnation i = live.get(role);
        i.process().destroy();
        if (!i.process().waitFor(30, TimeUnit.SECONDS)) {
            log.warn("role did not stop in 30s role={} pid={}; killing it", role, i.process().pid());
            i.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        return i;
    }

    synchronized Map<String, Incarnation> live() {
        return new LinkedHashMap<>(live);
    }

    synchronized List<String> roles() {
        return new ArrayList<>(args.keySet());
    }

    static Usage usage(long pid) {
        Path proc = Path.of("/proc", Long.toString(pid));
        long rss = -1;
        int threads = -1;
        try {
            for (String line : Files.readAllLines(proc.resolve("status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                } else if (line.startsWith("Threads:")) {
                    threads = Integer.parseInt(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return new Usage(-1, -1, -1); // gone, or not Linux
        }
        int fds;
        try (Stream<Path> s = Files.list(proc.resolve("fd"))) {
            fds = (int) s.count();
        } catch (IOException | RuntimeException e) {
            fds = -1;
        }
        return new Usage(rss, fds, threads);
    }

    /** Lines of a log that carry an ERROR level (the roles' text layout prints it as a word). */
    static long errorLines(Path logFile) {
        try (Stream<String> lines = Files.lines(logFile)) {
            return lines.filter(l -> l.contains(" ERROR ")).count();
        } catch (IOException | java.io.UncheckedIOException e) {
            return -1;
        }
    }

    /** SIGTERM to every live child, then SIGKILL after 30 s. */
    @Override
    public synchronized void close() throws InterruptedException {
        for (Incarnation i : live.values()) {
            i.process().destroy();
        }
        for (Incarnation i : live.values()) {
            if (!i.process().waitFor(30, TimeUnit.SECONDS)) {
                log.warn("role did not stop in 30s role={} pid={}; killing it", i.role(), i.process().pid());
                i.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
