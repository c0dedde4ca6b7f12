package dev.shapeshift.launcher.bench;

import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.embedded.EmbeddedPostgres;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code shapeshift bench soak}: one long run of the whole system as a deployment runs it. On an
 * embedded PostgreSQL (fsync on) and Kafka, pgbench's TPC-B-like load runs on
 * {@code pgbench_accounts} at a steady rate ({@code -R}) for {@code --minutes}; the coordinator, the
 * cdc-bridge and two workers run as child JVMs started with the commands a user runs; the migration
 * is registered with {@code shapeshift start} and driven by the coordinator. Every few minutes
 * (seeded) one role is killed with SIGKILL and started again. Every sample period the bench reads
 * each role's resident memory, file descriptors and threads from {@code /proc}, the slot's retained
 * WAL, the phase and the backfill's chunks. When the load ends it waits for {@code verified},
 * checks target = transform(source) with its own query, approves the read switch and the contract
 * from the CLI ({@code phase advance}, {@code contract}), and checks the new column against the
 * pgbench history (every account's balance is the sum of its deltas: a check that needs neither
 * Shapeshift nor the old column).
 *
 * <p>Why one class of ~370 lines: the soak is one story read in order — the set-up, the load window
 * with its kills and restarts, then the end (verified, the independent checks, the read switch and
 * the contract from the CLI) — and each check stands beside the step it checks. What is not that
 * story is apart: the CLI runner ({@link SoakCli}), the sampler ({@link SoakSampler}), the role JVMs
 * ({@link RoleJvms}) and the report ({@link SoakReport}).
 */
public final class SoakBench {
    private static final Logger log = LoggerFactory.getLogger(SoakBench.class);
    static final String MIGRATION = "soak-accounts";
    /** Rows where the new column is not the transform of the old one: the check before the contract. */
    static final String WRONG = "SELECT count(*) FROM pgbench_accounts WHERE abalance_cents IS DISTINCT FROM abalance::bigint * 100";
    /** Rows whose new column is not 100 × the sum of the account's deltas in pgbench_history (TPC-B's own invariant). */
    static final String WRONG_BY_HISTORY = "SELECT count(*) FROM pgbench_accounts a LEFT JOIN (SELECT aid, sum(delta) AS d "
            + "FROM pgbench_history GROUP BY aid) h USING (aid) WHERE a.abalance_cents IS DISTINCT FROM coalesce(h.d, 0)::bigint * 100";
    private static final String FINGERPRINT = "SELECT count(*) || '/' || coalesce(sum(abalance_cents), 0) || '/' "
            + "|| coalesce(sum(hashtextextended(aid::text || ':' || abalance_cents::text, 0)), 0) FROM pgbench_accounts";
    private static final List<String> KILLABLE = List.of("coordinator", "cdc-bridge", "worker-1", "worker-2");

    /**
     * @param minutes         how long the load runs (and kills happen)
     * @param seed            seeds the kill times and the role killed
     * @param scale           pgbench scale (100,000 accounts each)
     * @param rate            pgbench -R (transactions per second)
     * @param killEverySeconds mean time between kills; each gap is uniform in [0.5, 1.5] × this
     * @param backfillRowsPerSecond the spec's backfill.maxRowsPerSecond; 0 = the rows over a third of the run
     * @param sampleSeconds   sample period
     */
    public record Options(int minutes, long seed, int scale, int rate, int clients, int killEverySeconds,
                          int backfillRowsPerSecond, int sampleSeconds, int partitions, String heap, String pgbench,
                          Path out, String label, String note, String command) {
    }

    /** One sample of the whole system. */
    record Sample(double minute, Map<String, RoleJvms.Usage> roles, Map<String, Integer> incarnations, long slotRetainedBytes, long backends,
                  long historyRows, String phase, long chunksDone, long chunksTotal) {
    }

    /** A kill (planned) or an exit nobody asked for, and the restart that followed. */
    record Event(double minute, String role, int incarnation, long pid, String what, String phase) {
    }

    /** The end of the run: what the final checks found. */
    record Outcome(Pgbench.Result pgbench, String pgbenchError, double verifiedAtMinute, long wrongAtLoadEnd,
                   double convergedSeconds, long wrongBeforeContract, String fingerprintBefore, String fingerprintAfter,
                   String phaseAtEnd, boolean oldColumnDropped, long wrongByHistory, List<String> cli, String failure) {
    }

    private final Options o;
    private final PrintStream out;
    private final SoakSampler sampling;
    private final List<Event> events = new ArrayList<>();
    private final SoakCli cli;
    private long t0;

    private SoakBench(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
        this.cli = new SoakCli(out, this::minute);
        this.sampling = new SoakSampler(this::minute);
    }

    public static Path run(Options o, PrintStream out) throws Exception {
        return new SoakBench(o, out).run();
    }

    private Path run() throws Exception {
        OffsetDateTime started = OffsetDateTime.now();
        Path work = Files.createTempDirectory("shapeshift-soak-");
        out.println("soak: role logs and files in " + work);
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.defaults());
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String dbName = pg.createDatabase("shapeshift_soak");
            Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
            Map<String, String> machine;
            try (Connection c = db.connect("soak")) {
                machine = Machine.describe(c);
            }
            new Pgbench(o.pgbench(), pg.host(), pg.port(), pg.user(), pg.password(), dbName).init(o.scale());
            // The application is a role of its own, as in a deployment: the contract's gate tells its
            // statements (pg_stat_statements, per role) from Shapeshift's.
            String appPassword = UUID.randomUUID().toString();
            try (Connection c = db.connect("soak"); Statement s = c.createStatement()) {
                if (!pg.hasPgStatStatements()) {
                    throw new IllegalStateException("the embedded server has no pg_stat_statements; the contract's gate needs it");
                }
                s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
                s.execute("CREATE ROLE soak_app LOGIN PASSWORD '" + appPassword + "'");
                s.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON pgbench_accounts, pgbench_branches, pgbench_tellers, "
                        + "pgbench_history TO soak_app");
                s.execute("VACUUM ANALYZE pgbench_accounts");
                s.execute("CHECKPOINT");
            }
            Pgbench bench = new Pgbench(o.pgbench(), pg.host(), pg.port(), "soak_app", appPassword, dbName);
            CatalogSchema.migrate(db);
            long rows = 100_000L * o.scale();
            int backfillRate = o.backfillRowsPerSecond() > 0 ? o.backfillRowsPerSecond()
                    : (int) Math.max(100, rows / Math.max(1, o.minutes() * 20L));
            Path spec = Files.writeString(work.resolve(MIGRATION + ".yaml"), spec(backfillRate));
            List<String> conn = RoleJvms.connectionArgs(work, db);
            Path token = Files.writeString(work.resolve("admin-token"), "soak-" + UUID.randomUUID());
            String bootstrap = kafka.bootstrapServers();

            Outcome outcome;
            try (RoleJvms roles = new RoleJvms(work, List.of("-Xmx" + o.heap(), "-XX:+UseSerialGC"))) {
                roles.start("coordinator", SoakCli.with(conn, "coordinator", "--bootstrap", bootstrap, "--partitions",
                        Integer.toString(o.partitions()), "--replication", "1", "--port", "0", "--admin-token-file", token.toString()));
                roles.start("cdc-bridge", SoakCli.with(conn, "cdc-bridge", "--bootstrap", bootstrap, "--partitions",
                        Integer.toString(o.partitions()), "--replication", "1", "--heartbeat-ms", "1000"));
                for (int w = 1; w <= 2; w++) {
                    roles.start("worker-" + w, SoakCli.with(conn, "worker", "--bootstrap", bootstrap, "--worker-id", "soak-w" + w,
                            "--session-timeout-ms", "10000"));
                }
                t0 = System.nanoTime();
                int seconds = o.minutes() * 60;
                CompletableFuture<Pgbench.Result> load = CompletableFuture.supplyAsync(() -> {
                    try {
                        return bench.run(o.clients(), 1, seconds, o.rate());
                    } catch (Exception e) {
                        throw new IllegalStateException(e.getMessage(), e);
                    }
                });
                cli.run(SoakCli.with(conn, "start", spec.toString()), true);
                outcome = soak(db, roles, load, conn, seconds);
            }
            Path md = SoakReport.write(o, machine, started, backfillRate, sampling.samples, events, outcome, work);
            out.println("results: " + md + " (and .html, .json)");
            if (outcome.failure() != null) {
                out.println("soak FAILED: " + outcome.failure());
            }
            return md;
        }
    }

    /** The load window with kills and samples, then the end: verified, the checks, the contract. */
    private Outcome soak(Database db, RoleJvms roles, CompletableFuture<Pgbench.Result> load, List<String> conn, int seconds)
            throws Exception {
        Random random = new Random(o.seed());
        long loadEnd = t0 + TimeUnit.SECONDS.toNanos(seconds);
        long nextKill = t0 + gap(random);
        // Samples from start to end, the checks and the contract included, on a thread of their own.
        var sampler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "soak-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleWithFixedDelay(() -> sampling.sample(db, roles), 0, o.sampleSeconds(), TimeUnit.SECONDS);
        try {
            return loadAndFinish(db, roles, load, conn, random, loadEnd, nextKill);
        } finally {
            sampler.shutdownNow();
            sampler.awaitTermination(30, TimeUnit.SECONDS);
            sampling.sample(db, roles);
        }
    }

    private Outcome loadAndFinish(Database db, RoleJvms roles, CompletableFuture<Pgbench.Result> load, List<String> conn,
                                  Random random, long loadEnd, long nextKill) throws Exception {
        while (System.nanoTime() < loadEnd && !load.isDone()) {
            long now = System.nanoTime();
            restartUnasked(db, roles);
            if (now >= nextKill) {
                String role = KILLABLE.get(random.nextInt(KILLABLE.size()));
                RoleJvms.Incarnation killed = roles.kill(role);
                events.add(new Event(minute(), role, killed.number(), killed.process().pid(), "SIGKILL", phase(db)));
                out.printf(Locale.ROOT, "soak %.1f min: killed %s (pid %d)%n", minute(), role, killed.process().pid());
                Thread.sleep(5_000);
                roles.restart(role);
                nextKill = System.nanoTime() + gap(random);
            }
            Thread.sleep(500);
        }
        String pgbenchError = null;
        Pgbench.Result result = null;
        try {
            result = load.get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            pgbenchError = String.valueOf(e.getCause() == null ? e : e.getCause()).lines().limit(8)
                    .reduce((a, b) -> a + " / " + b).orElse("");
        }
        out.printf(Locale.ROOT, "soak %.1f min: load ended%s%n", minute(), pgbenchError == null ? "" : " with an error: " + pgbenchError);
        return finish(db, roles, conn, result, pgbenchError);
    }

    private Outcome finish(Database db, RoleJvms roles, List<String> conn, Pgbench.Result result, String pgbenchError)
            throws Exception {
        String failure = null;
        double verifiedAt = -1;
        long wrongAtLoadEnd = -1;
        double converged = -1;
        long wrongBefore = -1;
        String before = null;
        String after = null;
        boolean dropped = false;
        long byHistory = -1;
        try {
            // In steps of a minute, so a role that exits meanwhile is seen and started again.
            long verifiedDeadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(20);
            while (cli.run(SoakCli.with(conn, "wait", MIGRATION, "--for", "verified", "--timeout", "60s", "--interval", "2s", "--quiet"),
                    false) != 0) {
                restartUnasked(db, roles);
                if (System.nanoTime() > verifiedDeadline) {
                    throw new IllegalStateException("the migration did not reach verified within 20 minutes of the load's end");
                }
            }
            verifiedAt = verifiedAtMinute(db);
            wrongAtLoadEnd = count(db, WRONG);
            long c0 = System.nanoTime();
            long deadline = c0 + TimeUnit.MINUTES.toNanos(10);
            long wrong = wrongAtLoadEnd;
            while (wrong != 0 && System.nanoTime() < deadline) {
                Thread.sleep(1_000);
                restartUnasked(db, roles);
                wrong = count(db, WRONG);
            }
            converged = (System.nanoTime() - c0) / 1e9;
            wrongBefore = wrong;
            if (wrong != 0) {
                throw new IllegalStateException(wrong + " row(s) still differ from transform(source) 10 minutes after the load ended");
            }
            before = text(db, FINGERPRINT);
            cli.retry(SoakCli.with(conn, "phase", "advance", MIGRATION, "--to", "reads-switched", "--reason", "soak: load ended, target checked"));
            cli.retry(SoakCli.with(conn, "contract", MIGRATION, "--reason", "soak: nothing reads the old shape"));
            after = text(db, FINGERPRINT);
            dropped = count(db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'pgbench_accounts' "
                    + "AND column_name = 'abalance'") == 0;
            byHistory = count(db, WRONG_BY_HISTORY);
            if (!"contracted".equals(phase(db))) {
                failure = "phase after the contract is " + phase(db);
            } else if (!dropped) {
                failure = "the old column abalance is still there after the contract";
            } else if (!before.equals(after)) {
                failure = "the new column changed across the contract: " + before + " -> " + after;
            } else if (byHistory != 0) {
                failure = byHistory + " account(s) whose abalance_cents is not 100 × the sum of their pgbench_history deltas";
            } else if (pgbenchError != null) {
                failure = "pgbench failed: " + pgbenchError;
            }
        } catch (Exception e) {
            String message;
            try {
                message = text(db, "SELECT message FROM shapeshift.migration WHERE name = '" + MIGRATION + "'");
            } catch (SQLException unreadable) {
                message = "unreadable: " + unreadable.getMessage();
            }
            failure = e.getMessage() + " (phase " + phase(db) + ", the migration's message: " + message + ")";
            log.warn("soak: the end failed", e);
        }
        return new Outcome(result, pgbenchError, verifiedAt, wrongAtLoadEnd, converged, wrongBefore, before, after, phase(db),
                dropped, byHistory, cli.lines, failure);
    }

    /** A role that exited without being killed by the soak is a finding: recorded, then started again. */
    private void restartUnasked(Database db, RoleJvms roles) throws Exception {
        for (RoleJvms.Incarnation i : roles.live().values()) {
            if (!i.process().isAlive()) {
                events.add(new Event(minute(), i.role(), i.number(), i.process().pid(),
                        "exited by itself with " + i.process().exitValue() + " (see " + i.log().getFileName() + ")", phase(db)));
                out.printf(Locale.ROOT, "soak %.1f min: %s exited by itself with %d; starting it again%n", minute(), i.role(),
                        i.process().exitValue());
                roles.restart(i.role());
            }
        }
    }

    private long gap(Random random) {
        return TimeUnit.MILLISECONDS.toNanos((long) (o.killEverySeconds() * 1000L * (0.5 + random.nextDouble())));
    }

    private double minute() {
        return (System.nanoTime() - t0) / 60e9;
    }

    private double verifiedAtMinute(Database db) throws SQLException {
        String at = text(db, "SELECT extract(epoch FROM now() - min(at)) FROM shapeshift.audit WHERE migration = '"
                + MIGRATION + "' AND to_phase = 'verified'");
        return at == null ? -1 : minute() - Double.parseDouble(at) / 60;
    }

    private static String phase(Database db) {
        try {
            return text(db, "SELECT phase FROM shapeshift.migration WHERE name = '" + MIGRATION + "'");
        } catch (SQLException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static long count(Database db, String sql) throws SQLException {
        try (Connection c = db.connect("soak-check"); Statement s = c.createStatement()) {
            return one(s, sql);
        }
    }

    private static String text(Database db, String sql) throws SQLException {
        try (Connection c = db.connect("soak-check"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static long one(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** In place: abalance_cents = abalance × 100; the contract drops abalance once the load has stopped. */
    private static String spec(int backfillRate) {
        return Pgbench.inPlaceCentsSpec(MIGRATION) + """
                backfill:
                  chunkRows: 10000
                  batchRows: 1000
                  maxRowsPerSecond: %d
                reconcile:
                  interval: 30s
                  recheckAfter: 5s
                switch:
                  cleanFor: 10s
                contract:
                  dropColumns: [abalance]
                  quietPeriod: 10s
                """.formatted(backfillRate);
    }
}
