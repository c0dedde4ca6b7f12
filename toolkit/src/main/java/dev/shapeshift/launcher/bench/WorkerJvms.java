package dev.shapeshift.launcher.bench;

import dev.shapeshift.db.Database;
import dev.shapeshift.launcher.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backfill workers as child JVMs, as separate pods would run them: {@code java -Xmx<heap> -cp <this
 * jar> dev.shapeshift.launcher.Main worker --no-sync --migration … --worker-id bench-w<i> …} (the
 * command a user runs, {@code shapeshift worker}), one per worker, output to a log file each. Every 100 ms the sampler
 * reads each child's peak resident memory ({@code VmHWM} in {@code /proc/<pid>/status}, which only
 * grows, so the last sample before the child exits is its peak) and its CPU ticks from
 * {@code /proc/<pid>/stat}. Linux only: elsewhere the peaks stay null.
 */
final class WorkerJvms implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkerJvms.class);
    private static final double TICKS = 100.0; // USER_HZ on Linux

    private final List<Process> children;
    private final List<Path> logs;
    private final long[] peakKb;
    private final long[] cpuTicks;
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bench-worker-jvm-sampler");
        t.setDaemon(true);
        return t;
    });

    private WorkerJvms(List<Process> children, List<Path> logs) {
        this.children = children;
        this.logs = logs;
        this.peakKb = new long[children.size()];
        this.cpuTicks = new long[children.size()];
        sampler.scheduleAtFixedRate(this::sample, 0, 100, TimeUnit.MILLISECONDS);
    }

    static WorkerJvms start(Database db, String bootstrap, String migration, int workers, String heap) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> children = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        Path dir = Files.createTempDirectory("shapeshift-bench-workers-");
        List<String> connection = RoleJvms.connectionArgs(dir, db);
        for (int i = 1; i <= workers; i++) {
            Path logFile = dir.resolve("worker-" + i + ".log");
            List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + heap, "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "worker", "--no-sync", "--migration", migration, "--worker-id", "bench-w" + i,
                    "--bootstrap", bootstrap));
            cmd.addAll(connection);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
            log.info("bench worker jvm started worker=bench-w{} pid={} heap={} log={}", i, p.pid(), heap, logFile);
            children.add(p);
            logs.add(logFile);
        }
        return new WorkerJvms(children, logs);
    }

    /** Fails if a child exited before it was stopped (a crash, a bad argument): its log says why. */
    void checkAlive() {
        for (int i = 0; i < children.size(); i++) {
            if (!children.get(i).isAlive()) {
                throw new IllegalStateException("worker JVM " + (i + 1) + " exited with " + children.get(i).exitValue()
                        + "; see " + logs.get(i));
            }
        }
    }

    /** CPU seconds of all children so far (the last sample of each). */
    synchronized double cpuSeconds() {
        sampleLocked();
        long ticks = 0;
        for (long t : cpuTicks) {
            ticks += t;
        }
        return ticks / TICKS;
    }

    /** Each child's peak RSS in MB; null where /proc could not be read. */
    synchronized List<Long> peakRssMb() {
        List<Long> out = new ArrayList<>();
        for (long kb : peakKb) {
            out.add(kb > 0 ? kb / 1024 : null);
        }
        return out;
    }

    private synchronized void sample() {
        sampleLocked();
    }

    private void sampleLocked() {
        for (int i = 0; i < children.size(); i++) {
            Path proc = Path.of("/proc", Long.toString(children.get(i).pid()));
            try {
                for (String line : Files.readAllLines(proc.resolve("status"))) {
                    if (line.startsWith("VmHWM:")) {
                        peakKb[i] = Math.max(peakKb[i], Long.parseLong(line.replaceAll("[^0-9]", "")));
                    }
                }
                String stat = Files.readString(proc.resolve("stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                cpuTicks[i] = Math.max(cpuTicks[i], Long.parseLong(f[11]) + Long.parseLong(f[12]));
            } catch (IOException | RuntimeException e) {
                // Gone (exited) or not Linux: keep the last sample.
            }
        }
    }

    /** SIGTERM (the worker releases the chunk in hand and exits), then a kill after 30 s. */
    @Override
    public void close() throws InterruptedException {
        sample();
        children.forEach(Process::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (Process p : children) {
            while (System.nanoTime() < deadline && !p.waitFor(100, TimeUnit.MILLISECONDS)) {
                sample();
            }
            if (p.isAlive()) {
                log.warn("bench worker jvm did not stop in 30s pid={}; killing it", p.pid());
                p.destroyForcibly();
            }
        }
        sampler.shutdownNow();
    }
}
