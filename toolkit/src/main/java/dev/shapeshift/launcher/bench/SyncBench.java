package dev.shapeshift.launcher.bench;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.drive.DriveConfig;
import dev.shapeshift.coordinator.register.Registrar;
import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecValidator;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code shapeshift bench sync}: a pgbench TPC-B-like load on an embedded PostgreSQL (fsync on),
 * measured in one run with no replication, with Shapeshift's sync of {@code pgbench_accounts} to a
 * new table (registered as {@code shapeshift start} does and set up by the coordinator's driver;
 * bridge → Kafka → one worker, all in this JVM), and with PostgreSQL's own logical
 * replication of the same table to a second embedded server; the runs without replication come
 * first and last, so drift of the machine's load shows. Commit → applied lag from one probe method
 * for both, plus Shapeshift's own {@code shapeshift.sync.apply.latency} timer.
 *
 * <p>This class runs the steps in order; the parts are apart: the timed pgbench runs and the
 * wrong-rows check ({@link SyncRuns}), the migration's specs and consumers ({@link SyncMigration}),
 * the native baseline ({@link NativeReplicationRun}), {@code --backfill-during}
 * ({@link BackfillDuringRuns}), {@code --role-jvms} ({@link SyncRoleJvms}) and the result files
 * ({@link SyncReport}).
 *
 * <p>Why one class of ~330 lines: what is left is the order of the runs and its {@code Options}
 * record (every flag of {@code bench sync} with its default, and the constructors the other benches
 * call); split further, a reader would follow one run across two files.
 */
public final class SyncBench {
    static final String MIGRATION = "bench-sync-accounts";
    static final String TARGET = "accounts_v2";

    /**
     * @param scale    pgbench scale (100,000 accounts each)
     * @param seconds  length of every timed pgbench run
     * @param rate     {@code -R} of the rate-limited runs; 0 = half the first unthrottled run's tps
     * @param clients  pgbench {@code -c}
     * @param threads  pgbench {@code -j}
     * @param probeMs  probe write period
     * @param pollMs   probe poll period on the replica
     * @param inPlace  migrate pgbench_accounts in place (a new column) instead of to a new table
     * @param unguarded also run the sync without its visibility barrier (as before issue 12), each run
     *                 beside the guarded one, so both are measured in the same run
     * @param nativeReplication also measure PostgreSQL's own logical replication (its initial copy of a
     *                 large table takes minutes)
     */
    public record Options(int scale, int seconds, int rate, int clients, int threads, int probeMs, int pollMs,
                          int partitions, String pgbench, Path out, String command, boolean inPlace, boolean unguarded,
                          boolean nativeReplication, boolean reverse, boolean backfillDuring, boolean roleJvms,
                          boolean pin, Path jfr) {
        public Options(int scale, int seconds, int rate, int clients, int threads, int probeMs, int pollMs,
                       int partitions, String pgbench, Path out, String command, boolean inPlace, boolean unguarded,
                       boolean nativeReplication) {
            this(scale, seconds, rate, clients, threads, probeMs, pollMs, partitions, pgbench, out, command, inPlace,
                    unguarded, nativeReplication, false, false, false, false, null);
        }

        public Options(int scale, int seconds, int rate, int clients, int threads, int probeMs, int pollMs,
                       int partitions, String pgbench, Path out, String command, boolean inPlace, boolean unguarded,
                       boolean nativeReplication, boolean reverse, boolean backfillDuring) {
            this(scale, seconds, rate, clients, threads, probeMs, pollMs, partitions, pgbench, out, command, inPlace,
                    unguarded, nativeReplication, reverse, backfillDuring, false, false, null);
        }

        public Options {
            if (roleJvms && (unguarded || reverse || backfillDuring)) {
                throw new ShapeshiftException(ErrorCode.USAGE, "--role-jvms runs the plain forward sync only: leave out "
                        + "--compare-unguarded, --reverse and --backfill-during");
            }
            if (jfr != null && !roleJvms) {
                throw new ShapeshiftException(ErrorCode.USAGE, "--jfr records the role JVMs: it needs --role-jvms");
            }
            if (pin && CpuPin.unavailable() != null) {
                throw new ShapeshiftException(ErrorCode.USAGE, "--pin: " + CpuPin.unavailable());
            }
        }
    }

    /**
     * One in-place backfill of the whole table under the load ({@code --backfill-during}), with the
     * bridge's origin filter on or off, against the same configuration's run without a backfill.
     */
    record BackfillDuring(boolean originFilter, long originNone, long rows, double seconds, double rowsPerSecond,
                          double ratioToBulk, Double probeP99NoBackfillMs, Double probeP99DuringMs, Double p99Ratio,
                          Double probeP50DuringMs, Double probeMaxDuringMs, long probesDuring, double suppressedEvents,
                          long peakSlotLagBytes, String throttleReasons, Long wrongRows, Double ratioToBulkUnderLoad,
                          PgbenchLog.Window appBefore, PgbenchLog.Window appDuring) {
    }

    /**
     * The second baseline of {@code --backfill-during}: one bulk {@code UPDATE} of the same table
     * (the new column NULL again, the table rewritten) under the same load as the backfills, sync
     * running, origin filter on; {@code attempts} > 1 when it was chosen as a deadlock's victim
     * and run again (its seconds include every attempt).
     */
    record BulkUnderLoad(double seconds, int attempts, PgbenchLog.Window appBefore, PgbenchLog.Window appDuring,
                         Double probeP99DuringMs, double echoEventsDecoded, Long wrongRows) {
    }

    /** One timed pgbench run and what was measured during it. */
    record Phase(String name, String replication, int rate, Pgbench.Result pgbench, long probes, Double probeP50Ms,
                 Double probeP99Ms, Double probeMaxMs, long probesNotArrived, Double timerP50Ms, Double timerP99Ms,
                 Long timerCount, double sourceCpuSeconds, double subscriberCpuSeconds, double jvmCpuSeconds,
                 String loadStart, String loadEnd, Long wrongRows) {
    }

    /** {@code --pin}: the CPUs of the source server and pgbench, and of everything else. */
    static final String DB_CPU = "0";
    static final String REST_CPUS = "1-" + (Runtime.getRuntime().availableProcessors() - 1);

    private final Options o;
    private final PrintStream out;
    private final SyncRuns runs;
    private final BackfillDuringRuns backfillRuns;
    /** {@code --role-jvms}: the cdc-bridge and the worker as child JVMs started with the CLI a user runs. */
    private SyncRoleJvms roles;

    private SyncBench(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
        this.runs = new SyncRuns(o, out);
        this.backfillRuns = new BackfillDuringRuns(o, out, runs);
    }

    public static Path run(Options o, PrintStream out) throws Exception {
        return new SyncBench(o, out).run();
    }

    private Path run() throws Exception {
        OffsetDateTime started = OffsetDateTime.now();
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.defaults());
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String dbName = pg.createDatabase("shapeshift_bench");
            Database db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
            ServerCpu cpu = new ServerCpu(pg.dataDir());
            Pgbench unpinned = new Pgbench(o.pgbench(), pg.host(), pg.port(), pg.user(), pg.password(), dbName);
            Pgbench bench = o.pin() ? unpinned.withPrefix(CpuPin.prefix(DB_CPU)) : unpinned;
            Map<String, String> machine;
            try (Connection c = db.connect("bench")) {
                machine = Machine.describe(c);
            }
            long t0 = System.nanoTime();
            bench.init(o.scale());
            try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
                s.execute("INSERT INTO pgbench_accounts (aid, bid, abalance, filler) VALUES (0, 1, 0, '')");
                s.execute("VACUUM ANALYZE pgbench_accounts");
                s.execute("CHECKPOINT");
            }
            out.printf(Locale.ROOT, "pgbench -i -s %d: %.1f s%n", o.scale(), (System.nanoTime() - t0) / 1e9);
            CatalogSchema.migrate(db);
            if (o.pin()) {
                // The database (and pgbench) on CPU 0; this JVM (broker, probe, in-process roles) and what it
                // starts from now on (role JVMs, the native subscriber's server) on the others.
                List<Long> pinned = CpuPin.server(pg.dataDir(), DB_CPU);
                CpuPin.process(ProcessHandle.current().pid(), REST_CPUS);
                out.printf(Locale.ROOT, "pinned: source server (%d processes) and pgbench to CPU %s; this JVM and its "
                        + "children to CPU %s%n", pinned.size(), DB_CPU, REST_CPUS);
            }

            try (ApplyLagProbe probe = new ApplyLagProbe(db, 0, o.probeMs(), o.pollMs())) {
                runs.warmUp(bench, 0);
                Phase first = runs.measure(bench, cpu, null, probe, "no replication, unthrottled", "none", 0, null);
                int rate = o.rate() > 0 ? o.rate() : Math.max(10, (int) Math.round(first.pgbench().tps() / 2));
                runs.measure(bench, cpu, null, probe, "no replication, -R " + rate, "none", rate, null);

                shapeshift(db, kafka.bootstrapServers(), bench, cpu, probe, rate);
                if (o.backfillDuring()) {
                    Path md = write(machine, started, rate);
                    out.println("results: " + md + " (and .json)");
                    return md;
                }
                if (o.nativeReplication()) {
                    NativeReplicationRun.measure(runs, out, pg, dbName, db, bench, cpu, probe, rate);
                }

                runs.warmUp(bench, rate);
                runs.measure(bench, cpu, null, probe, "no replication, -R " + rate + " (again)", "none", rate, null);
                runs.measure(bench, cpu, null, probe, "no replication, unthrottled (again)", "none", 0, null);
                Path md = write(machine, started, rate);
                out.println("results: " + md + " (and .json)");
                return md;
            }
        }
    }

    private void shapeshift(Database db, String bootstrap, Pgbench bench, ServerCpu cpu, ApplyLagProbe probe, int rate)
            throws Exception {
        String yaml = o.reverse() ? SyncMigration.REVERSE_SPEC : o.inPlace() ? SyncMigration.IN_PLACE_SPEC : SyncMigration.SPEC;
        MigrationSpec spec = new SpecReader().read(MIGRATION + ".yaml", yaml);
        Registration registered = new Registrar(db, "bench").register(MIGRATION + ".yaml", spec, yaml);
        if (registered.outcome() != Registration.Outcome.CREATED) {
            throw new IllegalStateException("bench: registering " + MIGRATION + " failed: " + registered.message());
        }
        Catalog catalog = new Catalog(db, "bench");
        BridgeConfig config = BridgeConfig.of(db, bootstrap).withReplication((short) 1)
                .withChangesPartitions(o.partitions())
                .withHeartbeat(Duration.ofSeconds(1));
        CdcBridge bridge = new CdcBridge(config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        try {
            // The coordinator's driver takes the registered migration through expand (DDL, topics),
            // syncing (once the bridge streams the table) and the chunk plan, as in a deployment. The
            // target is filled as a finished backfill leaves it before the bridge starts, and the
            // coordinator is stopped once the plan is published: the runs measure the sync in steady
            // state, without a backfill (the worker runs sync only) or the driver's catalog polling.
            DriveConfig drive = DriveConfig.on(bootstrap, o.partitions())
                    .withPublication(config.publication());
            try (Coordinator coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, SyncMigration.adminToken(), null,
                    null).withDrive(drive), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
                SyncMigration.awaitPhase(catalog, dev.shapeshift.phase.Phase.EXPANDED);
                SyncMigration.backfill(db, o.inPlace());
                if (o.roleJvms()) {
                    roles = SyncRoleJvms.start(o, db, bootstrap);
                } else {
                    bridge.start();
                }
                SyncMigration.awaitPhase(catalog, dev.shapeshift.phase.Phase.BACKFILLING);
            }
            ApplyLagProbe.Replica replica = new ApplyLagProbe.Replica(db, o.inPlace()
                    ? "SELECT abalance_cents / 100 FROM pgbench_accounts WHERE aid = 0"
                    : "SELECT balance_cents / 100 FROM " + TARGET + " WHERE aid = 0");
            ResolvedSpec resolved;
            try (Connection c = db.connect("bench")) {
                resolved = SpecValidator.resolveExpanded(MIGRATION, spec, c);
            }
            if (o.backfillDuring()) {
                bridge = backfillRuns.run(db, bootstrap, config, bridge, bench, cpu, probe, replica, rate);
                return;
            }
            boolean warm = false;
            for (int r : List.of(rate, 0)) {
                for (boolean guarded : o.unguarded() ? List.of(false, true) : List.of(true)) {
                    // A fresh worker (and meter registry) per run, so the timer's percentiles are this run's only.
                    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
                    try (AutoCloseable sync = o.roleJvms() ? roles.worker(bootstrap) : guarded ? SyncMigration.worker(db, bootstrap, registry)
                            : SyncMigration.unguardedSync(db, bootstrap, resolved, registry)) {
                        probe.replica(replica);
                        if (!probe.awaitCaughtUp(Duration.ofMinutes(3))) {
                            throw new IllegalStateException("Shapeshift sync did not deliver the probe row within 3 minutes");
                        }
                        if (!warm) {
                            runs.warmUp(bench, rate);
                            warm = true;
                        }
                        probe.take();
                        runs.measure(bench, cpu, null, probe, "shapeshift sync" + (guarded ? "" : " WITHOUT visibility barrier")
                                + ", " + (r > 0 ? "-R " + r : "unthrottled"), "shapeshift", r, o.roleJvms() ? null : registry);
                        long wrong = runs.wrongRowsAfterCatchUp(db);
                        runs.wrongRows(wrong);
                        out.printf(Locale.ROOT, "    rows where the new shape != transform(source) after catch-up: %d%n", wrong);
                        if (wrong > 0) {
                            SyncMigration.backfill(db, o.inPlace()); // the next run starts from a right target
                        }
                        probe.replica(null);
                    }
                }
            }
            if (o.reverse()) {
                reverse(db, bootstrap, bench, cpu, probe, rate);
            }
        } finally {
            bridge.close();
            if (roles != null) {
                roles.close();
            }
            CdcBridge.dropSlot(db, config.slot());
        }
    }

    /**
     * The reverse sync after the write switch, under the same load shape writing the new column:
     * the bench sets the phase and the direction itself (as it stopped the driver after planning;
     * in a deployment the write switch's gate and Transitions do it), then measures the probe from
     * a write of {@code abalance_cents} to its reverse in {@code abalance}.
     */
    private void reverse(Database db, String bootstrap, Pgbench bench, ServerCpu cpu, ApplyLagProbe probe, int rate)
            throws Exception {
        try (Connection c = db.connect("bench")) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("UPDATE shapeshift.migration SET phase = 'writes-switched', phase_changed_at = now() WHERE name = '"
                        + MIGRATION + "'");
            }
            dev.shapeshift.refresh.SyncDirection.set(c, MIGRATION, dev.shapeshift.refresh.SyncDirection.REVERSE);
            c.commit();
        }
        Path script = java.nio.file.Files.createTempFile("shapeshift-bench-new-shape", ".sql");
        java.nio.file.Files.writeString(script, SyncMigration.NEW_SHAPE_SCRIPT);
        probe.writeWith("UPDATE pgbench_accounts SET abalance_cents = ?::bigint * 100 WHERE aid = 0");
        ApplyLagProbe.Replica replica = new ApplyLagProbe.Replica(db, "SELECT abalance FROM pgbench_accounts WHERE aid = 0");
        try {
            for (int r : List.of(rate, 0)) {
                PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
                try (AutoCloseable sync = SyncMigration.worker(db, bootstrap, registry)) {
                    probe.replica(replica);
                    if (!probe.awaitCaughtUp(Duration.ofMinutes(3))) {
                        throw new IllegalStateException("the reverse sync did not deliver the probe row within 3 minutes");
                    }
                    bench.run(o.clients(), o.threads(), Math.min(10, o.seconds()), rate, script);
                    probe.take();
                    runs.measureScript(bench, cpu, probe, "shapeshift REVERSE sync (writes switched), "
                            + (r > 0 ? "-R " + r : "unthrottled"), r, registry, script);
                    long wrong = SyncRuns.wrongRowsAfterCatchUp(db, "SELECT count(*) FROM pgbench_accounts WHERE "
                            + "abalance::bigint * 100 IS DISTINCT FROM abalance_cents");
                    runs.wrongRows(wrong);
                    out.printf(Locale.ROOT, "    rows where old != reverse(new) after catch-up: %d%n", wrong);
                    probe.replica(null);
                }
            }
        } finally {
            probe.writeWith("UPDATE pgbench_accounts SET abalance = ? WHERE aid = 0");
            java.nio.file.Files.deleteIfExists(script);
        }
    }


    private Path write(Map<String, String> machine, OffsetDateTime started, int rate) throws IOException {
        return new SyncReport(o, runs.phases, backfillRuns.during, backfillRuns.bulkSeconds, backfillRuns.bulkUnderLoad).write(machine, started, rate);
    }
}
