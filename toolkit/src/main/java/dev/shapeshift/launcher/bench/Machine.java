package dev.shapeshift.launcher.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the numbers were measured on: CPUs, memory, CPU model, PostgreSQL and Java, load at start. */
final class Machine {
    private Machine() {
    }

    static Map<String, String> describe(Connection c) throws SQLException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("nproc", Integer.toString(Runtime.getRuntime().availableProcessors()));
        m.put("memory", procLine("/proc/meminfo", "MemTotal:"));
        m.put("cpu", procLine("/proc/cpuinfo", "model name"));
        m.put("load average at start", firstLine("/proc/loadavg"));
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT version(), current_setting('fsync'), current_setting('synchronous_commit'), "
                     + "current_setting('shared_buffers'), current_setting('max_wal_size'), current_setting('wal_level')")) {
            rs.next();
            m.put("postgresql", rs.getString(1));
            m.put("postgresql settings", "fsync=" + rs.getString(2) + " synchronous_commit=" + rs.getString(3)
                    + " shared_buffers=" + rs.getString(4) + " max_wal_size=" + rs.getString(5)
                    + " wal_level=" + rs.getString(6));
        }
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("jvm max heap", Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MB");
        return m;
    }

    /** {@code /proc/loadavg} now. */
    static String loadAverage() {
        return firstLine("/proc/loadavg");
    }

    /** The 1-, 5- and 15-minute figures of a {@code /proc/loadavg} line (the line itself if it has fewer fields). */
    static String load3(String loadavg) {
        String[] f = loadavg.split(" ");
        return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : loadavg;
    }

    /** Adds the load average now, at the end of the run, beside the one at its start. */
    static void atEnd(Map<String, String> machine) {
        machine.put("load average at end", firstLine("/proc/loadavg"));
    }

    private static String procLine(String file, String prefix) {
        try {
            for (String line : Files.readAllLines(Path.of(file))) {
                if (line.startsWith(prefix)) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            return "unknown";
        }
        return "unknown";
    }

    private static String firstLine(String file) {
        try {
            return Files.readAllLines(Path.of(file)).get(0);
        } catch (IOException | IndexOutOfBoundsException e) {
            return "unknown";
        }
    }
}
