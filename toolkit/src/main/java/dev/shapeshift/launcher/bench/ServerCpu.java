package dev.shapeshift.launcher.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU seconds used by the PostgreSQL server (postmaster, its live children, and the children it has
 * reaped — closed backends) from {@code /proc}, and by this JVM. On a busy machine wall time is
 * noisy; CPU per row is not, so the report shows both. Linux only; -1 where /proc is unreadable.
 */
final class ServerCpu {
    private static final double TICKS = 100.0; // USER_HZ on Linux

    private final long postmaster;

    ServerCpu(Path dataDir) {
        long pid = -1;
        try {
            pid = postmasterPid(dataDir);
        } catch (IOException | RuntimeException e) {
            pid = -1;
        }
        this.postmaster = pid;
    }

    /** The server's postmaster, from the first line of {@code postmaster.pid} in its data directory. */
    static long postmasterPid(Path dataDir) throws IOException {
        return Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
    }

    /** Seconds of CPU of the server so far. */
    double serverSeconds() {
        if (postmaster < 0) {
            return -1;
        }
        long ticks = 0;
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                long[] f = stat(p);
                if (f == null) {
                    continue;
                }
                long pid = Long.parseLong(p.getFileName().toString());
                if (pid == postmaster) {
                    ticks += f[1] + f[2] + f[3] + f[4];
                } else if (f[0] == postmaster) {
                    ticks += f[1] + f[2];
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return ticks / TICKS;
    }

    static double jvmSeconds() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime() / 1e9;
        }
        return -1;
    }

    /** ppid, utime, stime, cutime, cstime; null if the process is gone. */
    private static long[] stat(Path proc) {
        try {
            String s = Files.readString(proc.resolve("stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            // after "pid (comm) ": state=0 ppid=1 … utime=11 stime=12 cutime=13 cstime=14
            return new long[] {Long.parseLong(f[1]), Long.parseLong(f[11]), Long.parseLong(f[12]),
                    Long.parseLong(f[13]), Long.parseLong(f[14])};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
