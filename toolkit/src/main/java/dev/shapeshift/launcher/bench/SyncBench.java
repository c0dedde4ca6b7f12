package dev.shapeshift.launcher.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.MigrationRecord;
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
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncConfig;
import dev.shapeshift.worker.sync.SyncConsumer;
import dev.shapeshift.worker.sync.SyncMetrics;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code shapeshift bench sync}: a pgbench TPC-B-like load on an embedded PostgreSQL (fsync on),
 * measured in one run with no replication, with Shapeshift's sync of {@code pgbench_accounts} to a
 * new table (registered as {@code shapeshift start} does and set up by the coordinator's driver;
 * bridge → Kafka → one worker, all in this JVM), and with PostgreSQL's own logical
 * replication of the same table to a second embedded server; the runs without replication come
 * first and last, so drift of the machine's load shows. Commit → applied lag from one probe method
 * for both, plus Shapeshift's own {@code shapeshift.sync.apply.latency} timer.
 */
public final class SyncBench {
    private static final Logger log = LoggerFactory.getLogger(SyncBench.class);
    private static final String MIGRATION = "bench-sync-accounts";
    private static final String TARGET = "accounts_v2";
    private static final String IN_PLACE_SPEC = """
            name: bench-sync-accounts
            source:
              table: pgbench_accounts
            mode: in-place
            target:
              columns:
                - name: abalance_cents
                  type: bigint
                  transform: abalance::bigint * 100
            """;
    /** In place with a write switch: the reverse sync's lag is measured after the forward sync's, same load. */
    private static final String REVERSE_SPEC = IN_PLACE_SPEC + """
            writes:
              switch: true
              reverse:
                abalance: (abalance_cents / 100)::integer
            """;
    /** pgbench's TPC-B-like transaction writing the new column instead of the old one. */
    private static final String NEW_SHAPE_SCRIPT = """
            \\set aid random(1, 100000 * :scale)
            \\set bid random(1, 1 * :scale)
            \\set tid random(1, 10 * :scale)
            \\set delta random(-5000, 5000)
            BEGIN;
            UPDATE pgbench_accounts SET abalance_cents = abalance_cents + :delta * 100 WHERE aid = :aid;
            SELECT abalance_cents FROM pgbench_accounts WHERE aid = :aid;
            UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
            UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
            INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
            END;
            """;
    private static final String SPEC = """
            name: bench-sync-accounts
            source:
              table: pgbench_accounts
            mode: table
            target:
              table: accounts_v2
              columns:
                - name: balance_cents
                  type: bigint
                  transform: abalance::bigint * 100
                - name: bid
                  type: integer
                  transform: bid
            """;

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
                          long peakSlotLagBytes, String throttleReasons, Long wrongRows) {
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
    /** {@code --role-jvms}: the cdc-bridge and the worker as child JVMs started with the CLI a user runs. */
    private RoleJvms roles;
    private List<String> roleConn;
    private final List<Phase> phases = new ArrayList<>();
    private final List<BackfillDuring> during = new ArrayList<>();
    /** {@code --backfill-during}: one bulk UPDATE of the whole idle table, same run (null before it ran). */
    private Double bulkSeconds;

    private SyncBench(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
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
                warmUp(bench, 0);
                Phase first = measure(bench, cpu, null, probe, "no replication, unthrottled", "none", 0, null);
                int rate = o.rate() > 0 ? o.rate() : Math.max(10, (int) Math.round(first.pgbench().tps() / 2));
                measure(bench, cpu, null, probe, "no replication, -R " + rate, "none", rate, null);

                shapeshift(db, kafka.bootstrapServers(), bench, cpu, probe, rate);
                if (o.backfillDuring()) {
                    Path md = write(machine, started, rate);
                    out.println("results: " + md + " (and .json)");
                    return md;
                }
                if (o.nativeReplication()) {
                    nativeReplication(pg, dbName, db, bench, cpu, probe, rate);
                }

                warmUp(bench, rate);
                measure(bench, cpu, null, probe, "no replication, -R " + rate + " (again)", "none", rate, null);
                measure(bench, cpu, null, probe, "no replication, unthrottled (again)", "none", 0, null);
                Path md = write(machine, started, rate);
                out.println("results: " + md + " (and .json)");
                return md;
            }
        }
    }

    private void shapeshift(Database db, String bootstrap, Pgbench bench, ServerCpu cpu, ApplyLagProbe probe, int rate)
            throws Exception {
        String yaml = o.reverse() ? REVERSE_SPEC : o.inPlace() ? IN_PLACE_SPEC : SPEC;
        MigrationSpec spec = new SpecReader().read(MIGRATION + ".yaml", yaml);
        Registration registered = new Registrar(db, "bench").register(MIGRATION + ".yaml", spec, yaml);
        if (registered.outcome() != Registration.Outcome.CREATED) {
            throw new IllegalStateException("bench: registering " + MIGRATION + " failed: " + registered.message());
        }
        Catalog catalog = new Catalog(db, "bench");
        BridgeConfig config = BridgeConfig.of(db, bootstrap).withReplication((short) 1, o.partitions())
                .withHeartbeat(Duration.ofSeconds(1));
        CdcBridge bridge = new CdcBridge(config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        try {
            // The coordinator's driver takes the registered migration through expand (DDL, topics),
            // syncing (once the bridge streams the table) and the chunk plan, as in a deployment. The
            // target is filled as a finished backfill leaves it before the bridge starts, and the
            // coordinator is stopped once the plan is published: the runs measure the sync in steady
            // state, without a backfill (the worker runs sync only) or the driver's catalog polling.
            DriveConfig drive = DriveConfig.on(bootstrap, o.partitions()).withPublication(config.publication());
            try (Coordinator coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, adminToken(), null,
                    null).withDrive(drive), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
                awaitPhase(catalog, dev.shapeshift.phase.Phase.EXPANDED);
                backfill(db);
                if (o.roleJvms()) {
                    startRoles(db, bootstrap);
                } else {
                    bridge.start();
                }
                awaitPhase(catalog, dev.shapeshift.phase.Phase.BACKFILLING);
            }
            ApplyLagProbe.Replica replica = new ApplyLagProbe.Replica(db, o.inPlace()
                    ? "SELECT abalance_cents / 100 FROM pgbench_accounts WHERE aid = 0"
                    : "SELECT balance_cents / 100 FROM " + TARGET + " WHERE aid = 0");
            ResolvedSpec resolved;
            try (Connection c = db.connect("bench")) {
                resolved = SpecValidator.resolveExpanded(MIGRATION, spec, c);
            }
            if (o.backfillDuring()) {
                bridge = backfillDuring(db, bootstrap, config, bridge, bench, cpu, probe, replica, rate);
                return;
            }
            boolean warm = false;
            for (int r : List.of(rate, 0)) {
                for (boolean guarded : o.unguarded() ? List.of(false, true) : List.of(true)) {
                    // A fresh worker (and meter registry) per run, so the timer's percentiles are this run's only.
                    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
                    try (AutoCloseable sync = o.roleJvms() ? workerJvm(bootstrap) : guarded ? worker(db, bootstrap, registry)
                            : unguardedSync(db, bootstrap, resolved, registry)) {
                        probe.replica(replica);
                        if (!probe.awaitCaughtUp(Duration.ofMinutes(3))) {
                            throw new IllegalStateException("Shapeshift sync did not deliver the probe row within 3 minutes");
                        }
                        if (!warm) {
                            warmUp(bench, rate);
                            warm = true;
                        }
                        probe.take();
                        measure(bench, cpu, null, probe, "shapeshift sync" + (guarded ? "" : " WITHOUT visibility barrier")
                                + ", " + (r > 0 ? "-R " + r : "unthrottled"), "shapeshift", r, o.roleJvms() ? null : registry);
                        long wrong = wrongRowsAfterCatchUp(db);
                        Phase last = phases.remove(phases.size() - 1);
                        phases.add(withWrongRows(last, wrong));
                        out.printf(Locale.ROOT, "    rows where the new shape != transform(source) after catch-up: %d%n", wrong);
                        if (wrong > 0) {
                            backfill(db); // the next run starts from a right target
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

    /** {@code --role-jvms}: the cdc-bridge as its own JVM, as {@code shapeshift cdc-bridge} runs it. */
    private void startRoles(Database db, String bootstrap) throws IOException {
        Path dir = Files.createDirectories(o.out().resolve("sync-role-jvms-" + System.currentTimeMillis()));
        Path password = Files.writeString(dir.resolve("db-password"), db.password());
        roleConn = List.of("--jdbc-url", db.jdbcUrl(), "--user", db.user(), "--password-file", password.toString());
        List<String> jvm = new ArrayList<>(List.of("-Xmx256m"));
        if (o.jfr() != null) {
            Files.createDirectories(o.jfr());
            jvm.add("-XX:StartFlightRecording=filename=" + o.jfr().resolve("{role}.jfr") + ",settings=profile");
        }
        roles = new RoleJvms(dir, jvm);
        List<String> bridgeArgs = new ArrayList<>(List.of("cdc-bridge", "--bootstrap", bootstrap, "--partitions",
                Integer.toString(o.partitions()), "--replication", "1", "--heartbeat-ms", "1000"));
        bridgeArgs.addAll(roleConn);
        roles.start("cdc-bridge", bridgeArgs);
    }

    /** {@code --role-jvms}: a worker JVM (sync only) for one run, stopped when the run ends. */
    private AutoCloseable workerJvm(String bootstrap) throws IOException {
        List<String> args = new ArrayList<>(List.of("worker", "--bootstrap", bootstrap, "--worker-id", "bench-sync-worker",
                "--migration", MIGRATION, "--no-backfill"));
        args.addAll(roleConn);
        roles.start("worker", args);
        return () -> roles.stop("worker");
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
        java.nio.file.Files.writeString(script, NEW_SHAPE_SCRIPT);
        probe.writeWith("UPDATE pgbench_accounts SET abalance_cents = ?::bigint * 100 WHERE aid = 0");
        ApplyLagProbe.Replica replica = new ApplyLagProbe.Replica(db, "SELECT abalance FROM pgbench_accounts WHERE aid = 0");
        try {
            for (int r : List.of(rate, 0)) {
                PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
                try (AutoCloseable sync = worker(db, bootstrap, registry)) {
                    probe.replica(replica);
                    if (!probe.awaitCaughtUp(Duration.ofMinutes(3))) {
                        throw new IllegalStateException("the reverse sync did not deliver the probe row within 3 minutes");
                    }
                    bench.run(o.clients(), o.threads(), Math.min(10, o.seconds()), rate, script);
                    probe.take();
                    measureScript(bench, cpu, probe, "shapeshift REVERSE sync (writes switched), "
                            + (r > 0 ? "-R " + r : "unthrottled"), r, registry, script);
                    long wrong = wrongRowsAfterCatchUp(db, "SELECT count(*) FROM pgbench_accounts WHERE "
                            + "abalance::bigint * 100 IS DISTINCT FROM abalance_cents");
                    Phase last = phases.remove(phases.size() - 1);
                    phases.add(withWrongRows(last, wrong));
                    out.printf(Locale.ROOT, "    rows where old != reverse(new) after catch-up: %d%n", wrong);
                    probe.replica(null);
                }
            }
        } finally {
            probe.writeWith("UPDATE pgbench_accounts SET abalance = ? WHERE aid = 0");
            java.nio.file.Files.deleteIfExists(script);
        }
    }



    /**
     * {@code --backfill-during} (issue 18 goal 1): the same load without and with an in-place
     * backfill of the whole table by the product's workers, once with the bridge's origin filter on
     * (the backfill's rows never decoded) and once off (decoded, dropped by the echo mark), and one
     * bulk {@code UPDATE} of the idle table as the backfill's baseline, all in this run. Between
     * runs the new column is reset to NULL and the table rewritten ({@code VACUUM FULL}), so every
     * backfill starts from the same table; the resets run under a replication origin while the
     * filter is on, so the bridge never decodes them (and so never lags from them). Returns the
     * bridge running at the end (the caller closes it).
     */
    private CdcBridge backfillDuring(Database db, String bootstrap, BridgeConfig config, CdcBridge bridge, Pgbench bench,
                                     ServerCpu cpu, ApplyLagProbe probe, ApplyLagProbe.Replica replica, int rate)
            throws Exception {
        if (bridge.metrics().originNone() != 1) {
            throw new IllegalStateException("bench: the bridge does not stream with origin = 'none' (PostgreSQL 16+ "
                    + "needed, no other replication origin); see the bridge's log line 'origin filter'");
        }
        resetNewColumn(db);
        bulkSeconds = bulkUpdate(db);
        out.printf(Locale.ROOT, "bulk UPDATE of the idle table (origin-filtered, not decoded): %.2f s%n", bulkSeconds);
        for (boolean filter : List.of(true, false)) {
            resetNewColumn(db); // while the filter is still on: the reset is never decoded
            if (!filter) {
                bridge.close();
                bridge = new CdcBridge(config.withOriginFilter(false), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                bridge.start();
                if (!bridge.awaitState(dev.shapeshift.bridge.BridgeState.STREAMING, Duration.ofMinutes(2))) {
                    throw new IllegalStateException("bench: the bridge did not stream again: " + bridge.failure());
                }
            }
            String label = filter ? "origin filter on" : "origin filter off (echo mark)";
            try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
                // no chunk to take until the backfill run makes them pending (the coordinator's tasks are consumed as done)
                s.executeUpdate("UPDATE shapeshift.chunk SET status = 'done' WHERE migration = '" + MIGRATION + "'");
            }
            List<Worker> workers = new ArrayList<>();
            try {
                for (int i = 1; i <= 2; i++) { // two workers, sync and backfill each, as in the product
                    Worker w = new Worker(db, bootstrap, Worker.Config.of("bench-sync-worker-" + i, List.of(MIGRATION)),
                            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                    w.start();
                    workers.add(w);
                }
                probe.replica(replica);
                if (!probe.awaitCaughtUp(Duration.ofMinutes(3))) {
                    throw new IllegalStateException("Shapeshift sync did not deliver the probe row within 3 minutes");
                }
                warmUp(bench, rate);
                Phase quiet = measure(bench, cpu, null, probe, "shapeshift sync, no backfill, " + label + ", -R " + rate,
                        "shapeshift", rate, null);
                during.add(backfillUnderLoad(db, bootstrap, bridge, bench, cpu, probe, rate, filter, quiet));
                probe.replica(null);
            } finally {
                for (Worker w : workers) {
                    w.close();
                }
            }
        }
        return bridge;
    }

    /** One backfill of every chunk, under pgbench at {@code rate} from before its start until after its end. */
    private BackfillDuring backfillUnderLoad(Database db, String bootstrap, CdcBridge bridge, Pgbench bench, ServerCpu cpu,
                                             ApplyLagProbe probe, int rate, boolean filter, Phase quiet) throws Exception {
        String name = "shapeshift sync DURING in-place backfill, origin filter " + (filter ? "on" : "off (echo mark)")
                + ", -R " + rate;
        java.util.concurrent.atomic.AtomicBoolean backfilling = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<Pgbench.Result> loads = java.util.Collections.synchronizedList(new ArrayList<>());
        long minLoadNanos = TimeUnit.SECONDS.toNanos(o.seconds());
        Thread load = new Thread(() -> {
            long start = System.nanoTime();
            try {
                // 10-s pgbench runs until the backfill is done and the load ran at least --duration
                while (backfilling.get() || System.nanoTime() - start < minLoadNanos) {
                    loads.add(bench.run(o.clients(), o.threads(), 10, rate));
                }
            } catch (Exception e) {
                log.warn("bench: pgbench during the backfill failed: {}", e.toString());
            }
        }, "bench-load-during-backfill");
        String loadStart = loadAverage();
        double src0 = cpu.serverSeconds();
        double jvm0 = ServerCpu.jvmSeconds();
        load.start();
        Thread.sleep(3000); // the load runs before the backfill starts
        double suppressed0 = bridge.metrics().suppressed();
        long peakLag = 0;
        java.util.Set<String> reasons = new java.util.TreeSet<>();
        probe.take();
        long t0 = System.nanoTime();
        long rows;
        try (Connection c = db.connect("bench")) {
            c.setAutoCommit(true);
            rows = replan(db, bootstrap, c);
            while (true) {
                long[] t = chunkTotals(c);
                if (t[2] > 0) {
                    throw new IllegalStateException("bench: " + t[2] + " chunks failed; see the log");
                }
                if (t[1] == t[0]) {
                    break;
                }
                peakLag = Math.max(peakLag, slotLag(c));
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT DISTINCT regexp_replace("
                        + "throttle_reason, '[0-9.]+', '#', 'g') FROM shapeshift.chunk WHERE migration = '" + MIGRATION
                        + "' AND throttle_reason IS NOT NULL")) {
                    while (rs.next()) {
                        reasons.add(rs.getString(1));
                    }
                }
                Thread.sleep(100);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        probe.awaitCaughtUp(Duration.ofMinutes(3));
        ApplyLagProbe.Snapshot snap = probe.take();
        double suppressed = bridge.metrics().suppressed() - suppressed0;
        backfilling.set(false);
        load.join();
        String loadEnd = loadAverage();
        long txns = loads.stream().mapToLong(Pgbench.Result::transactions).sum();
        long failed = loads.stream().mapToLong(Pgbench.Result::failed).sum();
        double loadSeconds = loads.size() * 10.0;
        Pgbench.Result combined = new Pgbench.Result(txns / Math.max(1, loadSeconds), txns, failed, null, null, null, null,
                loads.size() + " pgbench runs of 10 s back to back (the backfill ran inside them)\n\n"
                        + String.join("\n---\n", loads.stream().map(Pgbench.Result::output).toList()));
        Phase p = new Phase(name, "shapeshift", rate, combined, snap.lags().count(), snap.lags().percentile(50),
                snap.lags().percentile(99), snap.lags().percentile(100), snap.notArrived(), null, null, null,
                cpu.serverSeconds() - src0, 0, ServerCpu.jvmSeconds() - jvm0, loadStart, loadEnd, null);
        long wrong = wrongRowsAfterCatchUp(db);
        phases.add(withWrongRows(p, wrong));
        Double p99 = p.probeP99Ms();
        BackfillDuring b = new BackfillDuring(filter, bridge.metrics().originNone(), rows, seconds, rows / seconds,
                bulkSeconds / seconds, quiet.probeP99Ms(), p99, p99 == null || quiet.probeP99Ms() == null ? null
                : p99 / quiet.probeP99Ms(), p.probeP50Ms(), p.probeMaxMs(), p.probes(), suppressed, peakLag,
                reasons.isEmpty() ? "none" : String.join(", ", reasons), wrong);
        out.printf(Locale.ROOT, "%-45s backfill %,d rows in %.1f s (%.2f x bulk)  probe p50 %s / p99 %s ms (no backfill "
                        + "p99 %s ms: %.2f x)  echo events decoded %.0f  peak slot lag %,d B  throttle %s  wrong rows %d%n",
                name, rows, seconds, b.ratioToBulk(), fmt(p.probeP50Ms()), fmt(p99), fmt(quiet.probeP99Ms()),
                b.p99Ratio() == null ? Double.NaN : b.p99Ratio(), suppressed, peakLag, b.throttleReasons(), wrong);
        return b;
    }

    /**
     * Sets the new column back to NULL and rewrites the table, in a session under a backfill
     * replication origin (and with the echo mark): with the bridge's origin filter on, the reset is
     * never decoded. Then VACUUM FULL ANALYZE and a CHECKPOINT, so every backfill starts alike.
     */
    private static void resetNewColumn(Database db) throws Exception {
        try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
            if (dev.shapeshift.refresh.BackfillOrigin.attach(c) == null) {
                throw new IllegalStateException("bench: could not set up a replication origin for the reset");
            }
            c.setAutoCommit(false);
            s.execute("SELECT pg_logical_emit_message(true, '" + dev.shapeshift.refresh.WorkerTransactions.ECHO_MESSAGE_PREFIX
                    + "', '" + MIGRATION + "')");
            s.execute("UPDATE pgbench_accounts SET abalance_cents = NULL WHERE aid <> 0");
            c.commit();
            c.setAutoCommit(true);
            dev.shapeshift.refresh.BackfillOrigin.detach(c);
            s.execute("VACUUM (FULL, ANALYZE) pgbench_accounts");
            s.execute("CHECKPOINT");
        }
    }

    /** The baseline: one bulk UPDATE of the idle table (under a replication origin: not decoded), then reset. */
    private static double bulkUpdate(Database db) throws Exception {
        double seconds;
        try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
            if (dev.shapeshift.refresh.BackfillOrigin.attach(c) == null) {
                throw new IllegalStateException("bench: could not set up a replication origin for the bulk UPDATE");
            }
            c.setAutoCommit(false);
            s.execute("SELECT pg_logical_emit_message(true, '" + dev.shapeshift.refresh.WorkerTransactions.ECHO_MESSAGE_PREFIX
                    + "', '" + MIGRATION + "')");
            long t0 = System.nanoTime();
            s.executeUpdate("UPDATE pgbench_accounts SET abalance_cents = abalance::bigint * 100 WHERE aid <> 0");
            c.commit();
            seconds = (System.nanoTime() - t0) / 1e9;
            c.setAutoCommit(true);
            dev.shapeshift.refresh.BackfillOrigin.detach(c);
        }
        return seconds;
    }

    /** Makes every chunk of the coordinator's plan pending again and publishes its tasks; returns the rows to backfill. */
    private long replan(Database db, String bootstrap, Connection c) throws Exception {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE shapeshift.chunk SET status = 'pending', owner = NULL, last_key = NULL, rows_copied = 0, "
                    + "rows_written = 0, attempts = 0, heartbeat_at = NULL, resumed_from = NULL, error = NULL, "
                    + "started_at = NULL, finished_at = NULL, throttle_reason = NULL, throttled_since = NULL "
                    + "WHERE migration = '" + MIGRATION + "'");
            s.executeUpdate("DELETE FROM shapeshift.backfill_vacuum WHERE migration = '" + MIGRATION + "'");
        }
        long rows;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM pgbench_accounts "
                + "WHERE abalance_cents IS NULL")) {
            rs.next();
            rows = rs.getLong(1);
        }
        var store = new dev.shapeshift.catalog.ChunkStore(new Catalog(db, "bench"));
        new dev.shapeshift.coordinator.plan.ChunkPublisher(bootstrap, o.partitions()).publish(MIGRATION, store.chunks(MIGRATION));
        return rows;
    }

    /** Chunks, done, failed. */
    private static long[] chunkTotals(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*), count(*) FILTER (WHERE "
                + "status = 'done'), count(*) FILTER (WHERE status = 'failed') FROM shapeshift.chunk WHERE migration = '"
                + MIGRATION + "'")) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)};
        }
    }

    /** WAL the bench's slot has not confirmed yet. */
    private static long slotLag(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT coalesce(max(pg_wal_lsn_diff("
                + "pg_current_wal_lsn(), confirmed_flush_lsn)), 0)::bigint FROM pg_replication_slots WHERE slot_type = 'logical'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Waits until the coordinator's driver moved the bench's migration to {@code phase} or past it. */
    private static void awaitPhase(Catalog catalog, dev.shapeshift.phase.Phase phase) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (true) {
            MigrationRecord m = catalog.get(MIGRATION);
            if (m.phase() != dev.shapeshift.phase.Phase.ROLLED_BACK && m.phase().compareTo(phase) >= 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("bench: migration " + MIGRATION + " not " + phase + " within 3 minutes; phase "
                        + m.phase() + ", message: " + m.message());
            }
            Thread.sleep(200);
        }
    }

    /** A random admin token for the bench's coordinator API (which nobody calls). */
    private static String adminToken() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** The target as a finished backfill leaves it: the sync then updates rows, as in steady state. */
    private void backfill(Database db) throws Exception {
        try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
            if (o.inPlace()) {
                s.execute("UPDATE pgbench_accounts SET abalance_cents = abalance::bigint * 100 "
                        + "WHERE abalance_cents IS DISTINCT FROM abalance::bigint * 100");
                s.execute("VACUUM ANALYZE pgbench_accounts");
            } else {
                s.execute("INSERT INTO " + TARGET + " (aid, balance_cents, bid) SELECT aid, abalance::bigint * 100, bid "
                        + "FROM pgbench_accounts ON CONFLICT (aid) DO UPDATE SET balance_cents = EXCLUDED.balance_cents, "
                        + "bid = EXCLUDED.bid WHERE (" + TARGET + ".balance_cents, " + TARGET + ".bid) IS DISTINCT FROM "
                        + "(EXCLUDED.balance_cents, EXCLUDED.bid)");
                s.execute("VACUUM ANALYZE " + TARGET);
            }
            s.execute("CHECKPOINT");
        }
    }

    /**
     * The independent check, written here and not taken from the code under test: rows whose new
     * shape differs from transform(source). Polled until 0 for up to 15 s after the load, so a row
     * still in flight is not counted; a change the sync lost stays wrong.
     */
    private long wrongRowsAfterCatchUp(Database db) throws Exception {
        return wrongRowsAfterCatchUp(db, o.inPlace()
                ? "SELECT count(*) FROM pgbench_accounts WHERE abalance_cents IS DISTINCT FROM abalance::bigint * 100"
                : "SELECT count(*) FROM pgbench_accounts a FULL JOIN " + TARGET + " t USING (aid) WHERE a.aid IS NULL "
                        + "OR t.aid IS NULL OR t.balance_cents IS DISTINCT FROM a.abalance::bigint * 100 "
                        + "OR t.bid IS DISTINCT FROM a.bid");
    }

    /** Polls {@code sql} (a count of wrong rows) for up to 15 s until it is zero: the probe row keeps being written. */
    private static long wrongRowsAfterCatchUp(Database db, String sql) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            long wrong;
            try (Connection c = db.connect("bench"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                wrong = rs.getLong(1);
            }
            if (wrong == 0 || System.nanoTime() > deadline) {
                return wrong;
            }
            Thread.sleep(1000);
        }
    }

    private static Phase withWrongRows(Phase p, long wrong) {
        return new Phase(p.name(), p.replication(), p.rate(), p.pgbench(), p.probes(), p.probeP50Ms(), p.probeP99Ms(),
                p.probeMaxMs(), p.probesNotArrived(), p.timerP50Ms(), p.timerP99Ms(), p.timerCount(), p.sourceCpuSeconds(),
                p.subscriberCpuSeconds(), p.jvmCpuSeconds(), p.loadStart(), p.loadEnd(), wrong);
    }

    private static AutoCloseable worker(Database db, String bootstrap, PrometheusMeterRegistry registry) {
        Worker worker = new Worker(db, bootstrap,
                Worker.Config.of("bench-sync-worker", List.of(MIGRATION)).withBackfill(false), registry);
        worker.start();
        return worker;
    }

    /** The sync as it was before issue 12: the same consumer with its visibility barrier removed. */
    private static AutoCloseable unguardedSync(Database db, String bootstrap, ResolvedSpec resolved,
                                               PrometheusMeterRegistry registry) {
        SyncConsumer consumer = new SyncConsumer(SyncConfig.defaults(bootstrap, "bench-sync-unguarded")
                .withoutVisibilityBarrier(), db, new Catalog(db, "bench"), resolved, new SyncMetrics(registry, MIGRATION, "bench"));
        Thread t = new Thread(consumer, "bench-sync-unguarded");
        t.setDaemon(true);
        t.start();
        return consumer;
    }

    private void nativeReplication(EmbeddedPostgres pg, String dbName, Database db, Pgbench bench, ServerCpu cpu,
                                   ApplyLagProbe probe, int rate) throws Exception {
        try (EmbeddedPostgres sub = EmbeddedPostgres.start(EmbeddedPostgres.Options.defaults())) {
            Database subDb = new Database(sub.jdbcUrl(sub.createDatabase("bench_sub")), sub.user(), sub.password());
            ServerCpu subCpu = new ServerCpu(sub.dataDir());
            try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
                s.execute("CREATE PUBLICATION bench_native FOR TABLE pgbench_accounts");
            }
            try (Connection c = subDb.connect("bench"); Statement s = c.createStatement()) {
                // pgbench's own definition of the table.
                s.execute("CREATE TABLE pgbench_accounts (aid integer NOT NULL PRIMARY KEY, bid integer, abalance integer, "
                        + "filler character(84)) WITH (fillfactor = 100)");
                s.execute("CREATE SUBSCRIPTION bench_native CONNECTION 'host=" + pg.host() + " port=" + pg.port()
                        + " dbname=" + dbName + " user=" + pg.user() + " password=" + pg.password()
                        + "' PUBLICATION bench_native");
            }
            long t0 = System.nanoTime();
            awaitSubscriptionReady(subDb, Duration.ofMinutes(10));
            out.printf(Locale.ROOT, "native: initial copy of pgbench_accounts %.1f s%n", (System.nanoTime() - t0) / 1e9);
            try (Connection c = subDb.connect("bench"); Statement s = c.createStatement()) {
                s.execute("VACUUM ANALYZE pgbench_accounts");
                s.execute("CHECKPOINT");
            }
            probe.replica(new ApplyLagProbe.Replica(subDb, "SELECT abalance FROM pgbench_accounts WHERE aid = 0"));
            try {
                if (!probe.awaitCaughtUp(Duration.ofMinutes(3))) {
                    throw new IllegalStateException("logical replication did not deliver the probe row within 3 minutes");
                }
                warmUp(bench, rate);
                for (int r : List.of(rate, 0)) {
                    probe.take();
                    measure(bench, cpu, subCpu, probe, "native logical replication, " + (r > 0 ? "-R " + r : "unthrottled"),
                            "native", r, null);
                }
            } finally {
                probe.replica(null);
                try (Connection c = subDb.connect("bench"); Statement s = c.createStatement()) {
                    s.execute("DROP SUBSCRIPTION bench_native");
                }
                try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
                    s.execute("DROP PUBLICATION bench_native");
                }
            }
        }
    }

    private static void awaitSubscriptionReady(Database subDb, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection c = subDb.connect("bench")) {
            while (System.nanoTime() < deadline) {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                        "SELECT count(*) FILTER (WHERE srsubstate <> 'r'), count(*) FROM pg_subscription_rel")) {
                    rs.next();
                    if (rs.getLong(2) > 0 && rs.getLong(1) == 0) {
                        return;
                    }
                }
                Thread.sleep(500);
            }
        }
        throw new IllegalStateException("subscription not ready after " + timeout);
    }

    /** An untimed pgbench run at the rate before each configuration's first measured run (JIT, caches, slot start). */
    private void warmUp(Pgbench bench, int rate) throws Exception {
        int seconds = Math.min(10, o.seconds());
        bench.run(o.clients(), o.threads(), seconds, rate);
        out.printf(Locale.ROOT, "(warm-up: %d s at -R %d, not recorded)%n", seconds, rate);
    }

    private Phase measureScript(Pgbench bench, ServerCpu cpu, ApplyLagProbe probe, String name, int rate,
                                PrometheusMeterRegistry registry, Path script) throws Exception {
        return measure(bench, cpu, null, probe, name, "shapeshift", rate, registry, script);
    }

    private Phase measure(Pgbench bench, ServerCpu cpu, ServerCpu subCpu, ApplyLagProbe probe, String name,
                          String replication, int rate, PrometheusMeterRegistry registry) throws Exception {
        return measure(bench, cpu, subCpu, probe, name, replication, rate, registry, null);
    }

    private Phase measure(Pgbench bench, ServerCpu cpu, ServerCpu subCpu, ApplyLagProbe probe, String name,
                          String replication, int rate, PrometheusMeterRegistry registry, Path script) throws Exception {
        String loadStart = loadAverage();
        double src0 = cpu.serverSeconds();
        double sub0 = subCpu == null ? 0 : subCpu.serverSeconds();
        double jvm0 = ServerCpu.jvmSeconds();
        probe.take();
        Pgbench.Result r = bench.run(o.clients(), o.threads(), o.seconds(), rate, script);
        double src = cpu.serverSeconds() - src0;
        double subS = subCpu == null ? 0 : subCpu.serverSeconds() - sub0;
        double jvm = ServerCpu.jvmSeconds() - jvm0;
        String loadEnd = loadAverage();
        if (!"none".equals(replication)) {
            probe.awaitCaughtUp(Duration.ofSeconds(30));
        }
        ApplyLagProbe.Snapshot snap = probe.take();
        Double[] timer = timer(registry);
        Phase p = new Phase(name, replication, rate, r, snap.lags().count(), snap.lags().percentile(50),
                snap.lags().percentile(99), snap.lags().percentile(100), snap.notArrived(), timer[0], timer[1],
                timer[2] == null ? null : timer[2].longValue(), src, subS, jvm, loadStart, loadEnd, null);
        phases.add(p);
        out.printf(Locale.ROOT, "%-45s tps %8.1f  latency avg %s ms  probe lag p50 %s / p99 %s ms (%d probes)%s  load %s%n",
                name, r.tps(), fmt(r.latencyAvgMs()), fmt(p.probeP50Ms()), fmt(p.probeP99Ms()), p.probes(),
                timer[0] == null ? "" : String.format(Locale.ROOT, "  timer p50 %s / p99 %s ms", fmt(timer[0]), fmt(timer[1])),
                loadEnd);
        log.info("bench sync phase=\"{}\" tps={} probes={} probe_p50_ms={} probe_p99_ms={} timer_p50_ms={} timer_p99_ms={}",
                name, r.tps(), p.probes(), p.probeP50Ms(), p.probeP99Ms(), timer[0], timer[1]);
        return p;
    }

    /** p50, p99 and count of {@code shapeshift.sync.apply.latency} (as DemoMetrics.latency reads it). */
    private static Double[] timer(PrometheusMeterRegistry registry) {
        if (registry == null) {
            return new Double[] {null, null, null};
        }
        Timer t = registry.find("shapeshift.sync.apply.latency").tag("migration", MIGRATION).timer();
        if (t == null || t.count() == 0) {
            return new Double[] {null, null, 0.0};
        }
        Double p50 = dev.shapeshift.worker.sync.SyncMetrics.applyLatencyMillis(registry, MIGRATION, 0.5);
        Double p99 = dev.shapeshift.worker.sync.SyncMetrics.applyLatencyMillis(registry, MIGRATION, 0.99);
        return new Double[] {p50, p99, (double) t.count()};
    }

    static String loadAverage() {
        try {
            return Files.readAllLines(Path.of("/proc/loadavg")).get(0);
        } catch (IOException | IndexOutOfBoundsException e) {
            return "unknown";
        }
    }

    private static String fmt(Double d) {
        return d == null ? "–" : String.format(Locale.ROOT, "%.0f", d);
    }

    private static String fmt1(Double d) {
        return d == null ? "–" : String.format(Locale.ROOT, "%.1f", d);
    }

    private double baseline(int rate) {
        return phases.stream().filter(p -> p.replication().equals("none") && p.rate() == rate)
                .mapToDouble(p -> p.pgbench().tps()).average().orElse(Double.NaN);
    }

    private double baselineCpuPerTxn(int rate) {
        return phases.stream().filter(p -> p.replication().equals("none") && p.rate() == rate)
                .mapToDouble(SyncBench::cpuPerTxnMs).average().orElse(Double.NaN);
    }

    private static double cpuPerTxnMs(Phase p) {
        return (p.sourceCpuSeconds() + p.subscriberCpuSeconds() + p.jvmCpuSeconds()) * 1000
                / Math.max(1, p.pgbench().transactions());
    }

    private Path write(Map<String, String> machine, OffsetDateTime started, int rate) throws IOException {
        Files.createDirectories(o.out());
        String base = LocalDate.now() + "-sync-pgbench-s" + o.scale() + "-" + o.seconds() + "s"
                + (o.inPlace() ? "-in-place" : "") + (o.unguarded() ? "-barrier-compare" : "")
                + (o.backfillDuring() ? "-backfill-during" : "");
        StringBuilder b = new StringBuilder();
        b.append("# Sync benchmark: Shapeshift sync vs PostgreSQL logical replication under pgbench\n\n");
        b.append("- date: ").append(started).append("\n");
        b.append("- command: `").append(o.command()).append("`\n");
        b.append("- pgbench: `").append(new Pgbench(o.pgbench(), "127.0.0.1", 0, "postgres", "", "<db>")
                .commandLine(o.clients(), o.threads(), o.seconds(), rate)).append("` (built-in TPC-B-like script), scale ")
                .append(o.scale()).append(" (").append(String.format(Locale.ROOT, "%,d", o.scale() * 100_000L))
                .append(" accounts)\n");
        if (o.roleJvms()) {
            b.append("- roles: the cdc-bridge and the worker (sync only) each in its own JVM (`-Xmx256m`), started as "
                    + "`shapeshift cdc-bridge` / `shapeshift worker` are; the Kafka broker, the probe and the coordinator "
                    + "(stopped before the runs) in the bench's JVM. The JVM CPU column counts the bench's JVM only.\n");
        }
        if (o.pin()) {
            b.append("- CPUs pinned with taskset: the source server (postmaster and every backend) and pgbench on CPU ")
                    .append(DB_CPU).append("; the bench's JVM and everything it starts after the load of the table (role JVMs, "
                    + "the native subscriber's server) on CPU ").append(REST_CPUS).append(", so the database has the same "
                    + "core in every run\n");
        }
        if (o.reverse()) {
            b.append("- reverse runs (`--reverse`): the spec has a write switch (`writes.reverse: abalance: "
                    + "(abalance_cents / 100)::integer`); after the forward runs the bench sets the phase to "
                    + "writes-switched and the sync direction to reverse itself (the driver is stopped, as for the "
                    + "forward runs), and pgbench runs the same TPC-B-like transaction writing `abalance_cents` "
                    + "instead of `abalance` (`-f`); the probe writes `abalance_cents` and is read from `abalance`\n");
        }
        b.append("- probe: one row (aid 0) updated every ").append(o.probeMs()).append(" ms in every run (same load); "
                + "replica polled every ").append(o.pollMs()).append(" ms\n");
        machine.forEach((k, v) -> b.append("- ").append(k).append(": ").append(v).append("\n"));
        b.append("\n**Noisy**: one shared 2-core machine loaded by other builds; every ratio is against the runs "
                + "without replication of this same run (mean of the first and the last, shown separately). "
                + "CPU per transaction = source server + subscriber server + this JVM (Kafka broker, bridge, worker, "
                + "probe; pgbench itself not counted).\n\n");
        b.append("| run | tps | tps ÷ same-rate no-replication mean | failed | pgbench latency avg ms | schedule lag avg ms "
                + "| probe lag p50 ms | probe lag p99 ms | probe max ms | probes (not arrived) | timer p50 ms | timer p99 ms "
                + "| timer changes | source CPU s | subscriber CPU s | JVM CPU s | CPU ms/txn | CPU/txn ÷ no-repl | load avg start → end "
                + "| rows wrong after catch-up |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Phase p : phases) {
            Pgbench.Result r = p.pgbench();
            b.append(String.format(Locale.ROOT, "| %s | %.1f | %.3f | %d | %s | %s | %s | %s | %s | %d (%d) | %s | %s | %s "
                            + "| %.1f | %.1f | %.1f | %.2f | %.2f | %s → %s | %s |%n",
                    p.name(), r.tps(), r.tps() / baseline(p.rate()), r.failed(), fmt1(r.latencyAvgMs()),
                    fmt1(r.scheduleLagAvgMs()), fmt(p.probeP50Ms()), fmt(p.probeP99Ms()), fmt(p.probeMaxMs()), p.probes(),
                    p.probesNotArrived(), fmt(p.timerP50Ms()), fmt(p.timerP99Ms()), p.timerCount() == null ? "–" : p.timerCount(),
                    p.sourceCpuSeconds(), p.subscriberCpuSeconds(), p.jvmCpuSeconds(), cpuPerTxnMs(p),
                    cpuPerTxnMs(p) / baselineCpuPerTxn(p.rate()), load3(p.loadStart()), load3(p.loadEnd()),
                    p.wrongRows() == null ? "–" : p.wrongRows()));
        }
        if (!during.isEmpty()) {
            b.append("\n## Sync during an in-place backfill (`--backfill-during`, issue 18 goal 1)\n\n");
            b.append(String.format(Locale.ROOT, "Baseline: one bulk `UPDATE pgbench_accounts SET abalance_cents = "
                    + "abalance::bigint * 100` of the idle table, same run: %.2f s. Each backfill: the migration's own chunk "
                    + "plan (the coordinator's), every chunk pending again, two product workers (`Worker`, sync and backfill), "
                    + "the new column NULL in every row and the table rewritten before it; pgbench at -R %d from 3 s before "
                    + "the backfill to after it. Probe lag during = probes written from the backfill's start to its end "
                    + "(and until the sync caught up); without = the same configuration's run before it, no backfill.%n%n",
                    bulkSeconds, rate));
            b.append("| origin filter | stream origin=none | rows | backfill s | rows/s | ÷ bulk UPDATE | probe p99 no backfill ms "
                    + "| probe p50 / p99 / max during ms | p99 ratio | probes | echo events decoded | peak slot lag MB "
                    + "| throttle reasons | rows wrong |\n");
            b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (BackfillDuring d : during) {
                b.append(String.format(Locale.ROOT, "| %s | %d | %,d | %.1f | %,.0f | **%.2f** | %s | %s / %s / %s | **%.2f** "
                                + "| %d | %,.0f | %.1f | %s | %s |%n", d.originFilter() ? "on" : "off", d.originNone(), d.rows(),
                        d.seconds(), d.rowsPerSecond(), d.ratioToBulk(), fmt(d.probeP99NoBackfillMs()), fmt(d.probeP50DuringMs()),
                        fmt(d.probeP99DuringMs()), fmt(d.probeMaxDuringMs()), d.p99Ratio() == null ? Double.NaN : d.p99Ratio(),
                        d.probesDuring(), d.suppressedEvents(), d.peakSlotLagBytes() / 1048576.0, d.throttleReasons(),
                        d.wrongRows() == null ? "–" : d.wrongRows()));
            }
        }
        b.append("\n## pgbench output\n");
        for (Phase p : phases) {
            b.append("\n### ").append(p.name()).append("\n\n```\n").append(p.pgbench().output().strip()).append("\n```\n");
        }
        Path md = o.out().resolve(base + ".md");
        Files.writeString(md, b.toString());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", started.toString());
        json.put("command", o.command());
        json.put("options", o);
        json.put("machine", machine);
        json.put("rate", rate);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Phase p : phases) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("phase", p);
            m.put("tpsRatioToNoReplication", p.pgbench().tps() / baseline(p.rate()));
            m.put("cpuMsPerTxn", cpuPerTxnMs(p));
            m.put("cpuPerTxnRatioToNoReplication", cpuPerTxnMs(p) / baselineCpuPerTxn(p.rate()));
            list.add(m);
        }
        json.put("runs", list);
        if (!during.isEmpty()) {
            json.put("bulkUpdateSeconds", bulkSeconds);
            json.put("backfillDuring", during);
        }
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        mapper.addMixIn(Pgbench.Result.class, NoOutput.class);
        Files.writeString(o.out().resolve(base + ".json"), mapper.writeValueAsString(json) + "\n");
        return md;
    }

    /** pgbench's text output goes to the markdown only. */
    @com.fasterxml.jackson.annotation.JsonIgnoreProperties({"output"})
    private abstract static class NoOutput {
    }

    private static String load3(String loadavg) {
        String[] f = loadavg.split(" ");
        return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : loadavg;
    }
}
