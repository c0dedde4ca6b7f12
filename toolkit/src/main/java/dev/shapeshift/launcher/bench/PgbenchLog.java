package dev.shapeshift.launcher.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * pgbench's per-transaction log ({@code -l --log-prefix}), read back to see what the application
 * saw during one operation: one line per transaction, {@code client_id transaction_no time
 * script_no time_epoch time_us [schedule_lag retries]}, where {@code time} is the transaction's
 * latency in µs (with {@code -R} counted from its scheduled start, so waiting behind a lock or a
 * busy server is in it) or {@code failed} / {@code skipped}, and {@code time_epoch.time_us} when it
 * ended.
 */
final class PgbenchLog {

    /** One logged transaction: when it ended (µs since the epoch) and its latency (µs; -1: failed). */
    record Txn(long endMicros, long latencyMicros) {
        long scheduledMicros() {
            return latencyMicros < 0 ? endMicros : endMicros - latencyMicros;
        }
    }

    /**
     * What pgbench saw in a window: tps = transactions that ended in it ÷ its length; latency
     * percentiles over the transactions scheduled in it (they may end after it: a transaction held
     * behind a lock until the window's end counts with its whole wait); failed = failed
     * transactions scheduled in it (deadlocks, serialization failures).
     */
    record Window(double seconds, long ended, double tps, long scheduled, Double latencyP50Ms, Double latencyP99Ms,
                  Double latencyMaxMs, long failed) {
    }

    private PgbenchLog() {
    }

    /** Every transaction in the files {@code prefix.*} (one per pgbench thread and run). */
    static List<Txn> read(Path dir, String prefix) throws IOException {
        List<Txn> txns = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().startsWith(prefix + ".")).sorted().toList();
        }
        for (Path f : files) {
            for (String line : Files.readAllLines(f)) {
                String[] t = line.trim().split("\\s+");
                if (t.length < 6 || "skipped".equals(t[2])) {
                    continue;
                }
                long end = Long.parseLong(t[4]) * 1_000_000L + Long.parseLong(t[5]);
                txns.add(new Txn(end, t[2].chars().allMatch(Character::isDigit) ? Long.parseLong(t[2]) : -1));
            }
        }
        return txns;
    }

    /** The figures of {@code txns} for the window from {@code fromMicros} to {@code toMicros} (epoch µs). */
    static Window window(List<Txn> txns, long fromMicros, long toMicros) {
        Latencies lat = new Latencies();
        long ended = 0;
        long scheduled = 0;
        long failed = 0;
        for (Txn t : txns) {
            if (t.endMicros() >= fromMicros && t.endMicros() < toMicros && t.latencyMicros() >= 0) {
                ended++;
            }
            if (t.scheduledMicros() >= fromMicros && t.scheduledMicros() < toMicros) {
                scheduled++;
                if (t.latencyMicros() < 0) {
                    failed++;
                } else {
                    lat.add(t.latencyMicros() * 1000);
                }
            }
        }
        double seconds = (toMicros - fromMicros) / 1e6;
        return new Window(seconds, ended, ended / seconds, scheduled, lat.percentile(50), lat.percentile(99),
                lat.percentile(100), failed);
    }
}
