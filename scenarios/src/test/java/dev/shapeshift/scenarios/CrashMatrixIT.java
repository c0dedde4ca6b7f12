package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.coordinator.reconcile.RunStore;
import dev.shapeshift.coordinator.reconcile.RunStore.Run;
import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.scenarios.ScenarioRunner.Fault;
import dev.shapeshift.scenarios.ScenarioRunner.FaultReport;
import dev.shapeshift.scenarios.ScenarioRunner.Outcome;
import dev.shapeshift.scenarios.ScenarioRunner.Stage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The crash matrix: one fault (or one kind of bad input, {@link BadInput}) per case, each under the
 * application's write load during a whole
 * migration (scenario {@code crash/crash-base}), each ending with the independent check. For every
 * case it reports the time to recover (a change made after the fault is visible in the target, or
 * the interrupted chunk is done), the rows redone (chunk attempts and rows copied, from the catalog)
 * and the drift left after catch-up (must be zero). The table is printed and written to
 * {@code target/crash-matrix.md}.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrashMatrixIT {
    private static final String SCENARIO = "crash/crash-base";
    private static final Duration RECOVERY_LIMIT = Duration.ofSeconds(150);
    /** Probe rows per recovery measurement: enough that every one of the 3 partitions gets some. */
    private static final int PROBES = 20;
    private static final List<String> ROWS = new ArrayList<>();
    /**
     * The reconcile case's spec: the driver's passes paced at 1,500 rows/s (about 2 s for the table)
     * and repeated every 2 s, so the coordinator is stopped in the middle of one.
     */
    private static final UnaryOperator<String> PACED_RECONCILE = yaml -> {
        String at = "  recheckAfter: 1s\n";
        if (!yaml.contains(at)) {
            throw new IllegalArgumentException(SCENARIO + "/spec.yaml: no 'reconcile.recheckAfter: 1s' line to pace after");
        }
        return yaml.replace(at, at + "  maxRowsPerSecond: 1500\n  interval: 2s\n");
    };
    /** The mid-chunk case's {@code --lease-timeout-ms}: below the session timeout, above a sub-batch. */
    private static final Duration MID_CHUNK_LEASE = Duration.ofSeconds(5);

    @Test
    @Order(1)
    void workerKilledMidChunk(PostgresServer pg, KafkaBroker kafka) throws Exception {
        // Workers with a short chunk lease: the killed worker's chunk is free as soon as its partition
        // moves (session timeout), instead of after the default 30 s lease.
        matrix("SIGKILL worker mid-chunk", pg, kafka, 1, MID_CHUNK_LEASE, new Fault("kill-mid-chunk", Stage.BACKFILL, run -> {
            Chunk victim = run.awaitRunningChunk();
            long t0 = System.nanoTime();
            run.stack.kill(victim.owner());
            Chunk done = await().atMost(RECOVERY_LIMIT).pollInterval(Duration.ofMillis(200))
                    .until(() -> run.chunks.chunk(run.spec.name(), victim.number()).orElseThrow(), Chunk::done);
            return new FaultReport(ms(t0), String.format("chunk %d killed in %s at %d rows copied; done by %s after "
                            + "%d attempts, resumed from %s; lease timeout %d ms", victim.number(), victim.owner(),
                    victim.rowsCopied(), done.owner(), done.attempts(),
                    done.resumedFrom() == null ? "start" : done.resumedFrom().values(), MID_CHUNK_LEASE.toMillis()));
        }));
    }

    @Test
    @Order(2)
    void workerKilledMidSyncBatch(PostgresServer pg, KafkaBroker kafka) throws Exception {
        matrix("SIGKILL worker mid-sync-batch", pg, kafka, 1, duringSync("kill-mid-sync", run -> run.stack.kill("w1"),
                (took, run) -> "w1 killed while writes stream; w2 takes its partitions"));
    }

    @Test
    @Order(3)
    void workerFrozenPastSessionTimeout(PostgresServer pg, KafkaBroker kafka) throws Exception {
        matrix("SIGSTOP worker past session timeout, SIGCONT", pg, kafka, 1, new Fault("sigstop", Stage.SYNC, run -> {
            long t0 = System.nanoTime();
            run.stack.signal("w1", "STOP");
            long recovered = run.probeRecovered(t0, PROBES, RECOVERY_LIMIT);
            long frozenFor = Stack.SESSION_TIMEOUT_MS + 4000;
            long left = frozenFor - ms(t0);
            if (left > 0) {
                Thread.sleep(left);
            }
            run.stack.signal("w1", "CONT");
            long woke = System.nanoTime();
            long afterWake = run.probeRecovered(woke, PROBES, RECOVERY_LIMIT);
            return new FaultReport(recovered, String.format("w1 frozen %d ms; probes after wake-up applied in %d ms",
                    ms(t0) - ms(woke), afterWake));
        }));
    }

    @Test
    @Order(4)
    void activeBridgeKilledStandbyTakesOver(PostgresServer pg, KafkaBroker kafka) throws Exception {
        matrix("SIGKILL active bridge, standby takes over", pg, kafka, 2, duringSync("bridge-failover",
                run -> run.stack.kill("bridge1"), (took, run) -> "bridge2 (standby since the start) leads; " + slotActive(run)));
    }

    @Test
    @Order(5)
    void coordinatorKilledDuringReconcile(PostgresServer pg, KafkaBroker kafka) throws Exception {
        matrix("kill coordinator during reconcile run", pg, kafka, 1, null, PACED_RECONCILE, new Fault("reconcile-kill",
                Stage.SYNC, run -> {
            String name = run.spec.name();
            RunStore runs = new RunStore(run.catalog);
            Run running = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .until(() -> runs.latest(name).orElse(null), r -> r != null && "running".equals(r.status())
                            && r.rangesDone() >= 2);
            run.stopCoordinator(); // the coordinator dies between two ranges: its driver stops the pass at the next one
            Run stopped = runs.latest(name).orElseThrow();
            assertThat(stopped.id()).as("the pass the coordinator was running").isEqualTo(running.id());
            assertThat(stopped.status()).isEqualTo("stopped");
            long t0 = System.nanoTime();
            run.startCoordinator(); // a coordinator comes back (or a standby takes over): its driver picks the next step
            Run resumed = await().atMost(RECOVERY_LIMIT).pollInterval(Duration.ofMillis(100))
                    .until(() -> runs.latest(name).orElseThrow(), r -> r.id() != stopped.id()
                            || !(r.status().equals("running") || r.status().equals("stopped")));
            assertThat(resumed.id()).as("the new coordinator continues the same run").isEqualTo(stopped.id());
            assertThat(resumed.status()).isEqualTo("done");
            assertThat(resumed.driftFound()).as("no drift under lag: %s", resumed).isZero();
            return new FaultReport(ms(t0), String.format("run #%d stopped after %d ranges (%d rows) at last_key=%s; "
                            + "resumed same run by the new coordinator's driver: ranges=%d rows_checked=%d drift_found=%d "
                            + "transient=%d", stopped.id(), stopped.rangesDone(), stopped.rowsChecked(),
                    stopped.lastKey() == null ? "-" : stopped.lastKey().values(), resumed.rangesDone(), resumed.rowsChecked(),
                    resumed.driftFound(), resumed.transientKeys()));
        }));
    }

    @Test
    @Order(6)
    void kafkaBrokerRestarted(PostgresServer pg, EmbeddedKafka kafka) throws Exception {
        matrix("restart Kafka broker", pg, kafka, 1, duringSync("kafka-restart", run -> {
            kafka.stop();
            Thread.sleep(3000);
            kafka.restart();
        }, (took, run) -> "broker down " + took + " ms; " + alive(run)));
    }

    @Test
    @Order(7)
    void postgresRestartedFast(EmbeddedPostgres pg, KafkaBroker kafka) throws Exception {
        matrix("restart PostgreSQL (fast)", pg, kafka, 1, duringSync("pg-restart-fast", run -> pg.restart(false),
                (took, run) -> "server down+up " + took + " ms; " + alive(run)));
    }

    @Test
    @Order(8)
    void postgresRestartedImmediate(EmbeddedPostgres pg, KafkaBroker kafka) throws Exception {
        matrix("restart PostgreSQL (immediate)", pg, kafka, 1, duringSync("pg-restart-immediate", run -> pg.restart(true),
                (took, run) -> "crash recovery, server up after " + took + " ms; " + alive(run)));
    }

    /** What a fault does to the run; it may fail. */
    private interface Act {
        void on(ScenarioRunner run) throws Exception;
    }

    /**
     * A fault during sync: {@code act} on the run, then the probes' recovery from its start; the
     * report's note is what {@code note} makes of the milliseconds {@code act} took (after the probes).
     */
    private static Fault duringSync(String name, Act act, java.util.function.BiFunction<Long, ScenarioRunner, String> note) {
        return new Fault(name, Stage.SYNC, run -> {
            long t0 = System.nanoTime();
            act.on(run);
            long took = ms(t0);
            return new FaultReport(run.probeRecovered(t0, PROBES, RECOVERY_LIMIT), note.apply(took, run));
        });
    }

    @Test
    @Order(9)
    void hostileSpecsAndUnauthorizedCallsRefused(PostgresServer pg, KafkaBroker kafka) throws Exception {
        matrix("hostile specs, unauthorized API calls", pg, kafka, 1, new Fault("bad-input", Stage.BACKFILL, run -> {
            BadInput.Snapshot before = BadInput.snapshot(run);
            List<String> refused = BadInput.refuseHostileSpecs(run);
            String quoted = BadInput.quoteTargetColumn(run);
            String api = BadInput.refuseUnauthorizedCalls(run);
            assertThat(BadInput.snapshot(run)).as("migrations, settings, flags, audit (but the driver's own moves), tables and topics untouched")
                    .isEqualTo(before);
            long t0 = System.nanoTime();
            return new FaultReport(run.probeRecovered(t0, PROBES, RECOVERY_LIMIT), String.format("%d specs refused "
                    + "naming file, field and problem (%s); %s; %s; catalog, audit, flags, columns, topics unchanged; "
                    + "recovery = probes written after them applied", refused.size(), String.join(", ", refused), quoted,
                    api));
        }));
    }

    @Test
    @Order(10)
    void poisonRecordsInTheChangesTopic(PostgresServer pg, KafkaBroker kafka) throws Exception {
        matrix("poison records in the changes topic", pg, kafka, 1, new Fault("poison", Stage.SYNC, run -> {
            Map.Entry<Long, String> skipped = BadInput.poisonAndSkip(run, RECOVERY_LIMIT);
            return new FaultReport(run.probeRecovered(skipped.getKey(), PROBES, RECOVERY_LIMIT), skipped.getValue()
                    + "; recovery = last skip → probes applied");
        }));
    }

    @Test
    @Order(11)
    void commitHeldInSynchronousReplicationWait(PostgresServer pg, KafkaBroker kafka) throws Exception {
        matrix("commit held in SyncRep (events before visibility)", pg, kafka, 1, new Fault("syncrep-hold", Stage.SYNC, run -> {
            long recovered = run.heldCommitRecovered(Duration.ofSeconds(3), PROBES, RECOVERY_LIMIT);
            return new FaultReport(recovered, PROBES + " rows inserted by a commit held 3 s in SyncRep "
                    + "(synchronous_standby_names = 'ghost') while its events were delivered; recovery = release → "
                    + "every held row in the target");
        }));
    }

    private void matrix(String name, PostgresServer pg, KafkaBroker kafka, int bridges, Fault fault) throws Exception {
        matrix(name, pg, kafka, bridges, null, fault);
    }

    private void matrix(String name, PostgresServer pg, KafkaBroker kafka, int bridges, Duration leaseTimeout, Fault fault)
            throws Exception {
        matrix(name, pg, kafka, bridges, leaseTimeout, UnaryOperator.identity(), fault);
    }

    /**
     * @param leaseTimeout the workers' {@code --lease-timeout-ms}, or null for the default
     * @param specEdit     changes the scenario's spec for this case
     */
    private void matrix(String name, PostgresServer pg, KafkaBroker kafka, int bridges, Duration leaseTimeout,
                        UnaryOperator<String> specEdit, Fault fault) throws Exception {
        Scenario scenario = Scenario.resource(SCENARIO);
        try (ScenarioRunner run = new ScenarioRunner(scenario, pg, kafka, Soak.scale(), 2, bridges, Soak.seedOverride(),
                specEdit)) {
            if (leaseTimeout != null) {
                run.stack.leaseTimeout(leaseTimeout);
            }
            Outcome o;
            try {
                o = run.run(fault);
            } catch (Throwable t) {
                ROWS.add(String.format("| %s | FAILED | | | | | %s |", name, t.getMessage() == null ? t.toString()
                        : t.getMessage().lines().findFirst().orElse("").replace('|', '/')));
                throw t;
            }
            long preload = run.workload.preloadRows();
            ROWS.add(String.format(Locale.ROOT, "| %s | %d | %d | %d / %d | %d | %d | %s |", name,
                    o.fault().orElseThrow().recoveryMillis(), o.extraAttempts(), o.totals().rowsCopied(), preload,
                    o.appFailures(), o.check().drift(), o.fault().orElseThrow().note().replace('|', '/')));
            assertThat(o.phase()).as("moved to backfilled by the driver, maybe reconciled to verified since")
                    .isIn(Phase.BACKFILLED, Phase.VERIFIED);
            assertThat(o.check().clean()).as("drift after catch-up: %s", o.check()).isTrue();
        }
    }

    @AfterAll
    static void writeTable() throws IOException {
        String table = "| case | recovery ms | extra chunk attempts | rows copied / preloaded | app tx failures "
                + "| drift after catch-up | notes |\n|---|---|---|---|---|---|---|\n" + String.join("\n", ROWS) + "\n";
        System.out.println("CRASH MATRIX (scale " + Soak.scale() + ")\n" + table);
        Path out = Path.of("target", "crash-matrix.md");
        Files.writeString(out, "# Crash matrix (scale " + Soak.scale() + ")\n\n"
                + "recovery: fault → a row written after the fault is in the target as transform(source) ("
                + PROBES + " probe "
                + "rows, all partitions), or → the interrupted chunk is done (mid-chunk), or → the resumed reconcile "
                + "run is done.\n\n" + table);
    }

    private static String slotActive(ScenarioRunner run) {
        return "slot active=" + run.count("SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = '"
                + run.stack.slot + "'");
    }

    private static String alive(ScenarioRunner run) {
        List<String> alive = new ArrayList<>();
        for (String n : List.of("bridge1", "w1", "w2")) {
            alive.add(n + (run.stack.process(n).isAlive() ? " alive" : " EXITED(" + run.stack.process(n).exitValue() + ")"));
        }
        return String.join(", ", alive);
    }

    private static long ms(long since) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
    }
}
