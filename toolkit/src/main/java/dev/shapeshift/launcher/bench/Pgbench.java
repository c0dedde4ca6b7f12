package dev.shapeshift.launcher.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The system's {@code pgbench} (a PostgreSQL client package; the embedded server's zonky binaries
 * have none) against the embedded server over TCP: {@code -i -s N} once, then the built-in
 * TPC-B-like script for a fixed time, optionally rate-limited ({@code -R}) so that runs with and
 * without replication see the same offered load.
 */
final class Pgbench {
    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+)");
    private static final Pattern TXNS = Pattern.compile("number of transactions actually processed: (\\d+)");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");
    private static final Pattern LATENCY = Pattern.compile("latency average = ([0-9.]+) ms");
    private static final Pattern STDDEV = Pattern.compile("latency stddev = ([0-9.]+) ms");
    private static final Pattern SCHEDULE_LAG = Pattern.compile("rate limit schedule lag: avg ([0-9.]+) \\(max ([0-9.]+)\\) ms");

    /**
     * The benches' migration of pgbench's table, named {@code name}: {@code pgbench_accounts} in place,
     * a new column {@code abalance_cents = abalance × 100} (a spec's first lines; more sections may follow).
     */
    static String inPlaceCentsSpec(String name) {
        return """
                name: %s
                source:
                  table: pgbench_accounts
                mode: in-place
                target:
                  columns:
                    - name: abalance_cents
                      type: bigint
                      transform: abalance::bigint * 100
                """.formatted(name);
    }

    /** One timed run as pgbench reports it. */
    record Result(double tps, long transactions, long failed, Double latencyAvgMs, Double latencyStddevMs,
                  Double scheduleLagAvgMs, Double scheduleLagMaxMs, String output) {
    }

    private final String binary;
    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final String database;
    private final List<String> prefix;

    Pgbench(String binary, String host, int port, String user, String password, String database) {
        this(binary, host, port, user, password, database, List.of());
    }

    private Pgbench(String binary, String host, int port, String user, String password, String database,
                    List<String> prefix) {
        this.prefix = List.copyOf(prefix);
        this.binary = binary;
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.database = database;
    }

    /** The same pgbench started behind {@code prefix} (e.g. {@code taskset -c 0}). */
    Pgbench withPrefix(List<String> prefix) {
        return new Pgbench(binary, host, port, user, password, database, prefix);
    }

    /** {@code pgbench -i -s scale -q}. */
    String init(int scale) throws IOException, InterruptedException {
        return exec(List.of("-i", "-s", Integer.toString(scale), "-q"));
    }

    /** {@code pgbench -c clients -j threads -T seconds [-R rate]}; rate 0 means unthrottled. */
    Result run(int clients, int threads, int seconds, int rate) throws IOException, InterruptedException {
        return run(clients, threads, seconds, rate, null);
    }

    /** As {@link #run(int, int, int, int)} with a custom script ({@code -f}) instead of the built-in TPC-B-like one. */
    Result run(int clients, int threads, int seconds, int rate, java.nio.file.Path script)
            throws IOException, InterruptedException {
        return run(clients, threads, seconds, rate, script, null);
    }

    /**
     * As {@link #run(int, int, int, int, java.nio.file.Path)}, and with {@code logPrefix} not null
     * pgbench writes its per-transaction log to {@code logPrefix.<pid>[.<thread>]} ({@link PgbenchLog}).
     */
    Result run(int clients, int threads, int seconds, int rate, java.nio.file.Path script, java.nio.file.Path logPrefix)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-c", Integer.toString(clients), "-j", Integer.toString(threads),
                "-T", Integer.toString(seconds)));
        if (script != null) {
            args.addAll(List.of("-f", script.toString()));
        }
        if (logPrefix != null) {
            args.addAll(List.of("-l", "--log-prefix=" + logPrefix));
        }
        if (rate > 0) {
            args.addAll(List.of("-R", Integer.toString(rate)));
        }
        String out = exec(args);
        return new Result(number(TPS, out, 1), (long) number(TXNS, out, 1), (long) orZero(FAILED, out),
                opt(LATENCY, out, 1), opt(STDDEV, out, 1), opt(SCHEDULE_LAG, out, 1), opt(SCHEDULE_LAG, out, 2), out);
    }

    /**
     * {@code pgbench -n -c clients -j threads -T seconds} started in the background, its output
     * discarded: a steady application load that the caller stops with {@link Process#destroy()}.
     */
    Process background(int clients, int threads, int seconds) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(binary, "-h", host, "-p", Integer.toString(port), "-U", user, "-n",
                "-c", Integer.toString(clients), "-j", Integer.toString(threads), "-T", Integer.toString(seconds), database));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("PGPASSWORD", password);
        return pb.start();
    }

    String commandLine(int clients, int threads, int seconds, int rate) {
        return (prefix.isEmpty() ? "" : String.join(" ", prefix) + " ") + binary + " -h " + host + " -p <port> -U " + user + " -c " + clients + " -j " + threads + " -T " + seconds
                + (rate > 0 ? " -R " + rate : "") + " " + database;
    }

    private String exec(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(binary);
        cmd.addAll(List.of("-h", host, "-p", Integer.toString(port), "-U", user));
        cmd.addAll(args);
        cmd.add(database);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("PGPASSWORD", password);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        if (code != 0) {
            throw new IllegalStateException("pgbench " + String.join(" ", args) + " exited " + code + ":\n" + out);
        }
        return out;
    }

    private static double number(Pattern p, String out, int group) {
        Matcher m = p.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("pgbench output has no '" + p.pattern() + "':\n" + out);
        }
        return Double.parseDouble(m.group(group));
    }

    private static double orZero(Pattern p, String out) {
        Matcher m = p.matcher(out);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static Double opt(Pattern p, String out, int group) {
        Matcher m = p.matcher(out);
        return m.find() ? Double.valueOf(m.group(group)) : null;
    }
}
