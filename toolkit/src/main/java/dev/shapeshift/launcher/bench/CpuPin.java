package dev.shapeshift.launcher.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CPU pinning with {@code taskset} (Linux), so that in a comparison the database gets the same cores
 * in every run: the source server (its postmaster and every process it has forked; later backends
 * inherit the postmaster's mask) and pgbench on one set, everything that replicates (this JVM, the
 * child JVMs and servers it starts afterwards, which inherit its mask) on another.
 */
final class CpuPin {
    private CpuPin() {
    }

    /** Why pinning cannot be done here, or null when it can (Linux, {@code taskset}, at least 2 CPUs). */
    static String unavailable() {
        if (!Files.isExecutable(Path.of("/usr/bin/taskset"))) {
            return "taskset is not installed (util-linux)";
        }
        if (Runtime.getRuntime().availableProcessors() < 2) {
            return "fewer than 2 CPUs";
        }
        return null;
    }

    /** Pins every thread of {@code pid} to {@code cpus} (e.g. {@code 0} or {@code 1-3}). */
    static void process(long pid, String cpus) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", cpus, Long.toString(pid)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("taskset -a -p -c " + cpus + " " + pid + " failed: " + out.strip());
        }
    }

    /** Pins a PostgreSQL server: its postmaster ({@code postmaster.pid} of {@code dataDir}) and every child. */
    static List<Long> server(Path dataDir, String cpus) throws IOException, InterruptedException {
        long postmaster = ServerCpu.postmasterPid(dataDir);
        List<Long> pinned = new ArrayList<>();
        process(postmaster, cpus);
        pinned.add(postmaster);
        for (ProcessHandle child : ProcessHandle.of(postmaster).map(h -> h.children().toList()).orElse(List.of())) {
            process(child.pid(), cpus);
            pinned.add(child.pid());
        }
        return pinned;
    }

    /** The command prefix that starts a program on {@code cpus}. */
    static List<String> prefix(String cpus) {
        return List.of("taskset", "-c", cpus);
    }
}
