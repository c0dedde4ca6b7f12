package dev.shapeshift.launcher;

import static dev.shapeshift.launcher.RoleProcesses.WRONG;
import static dev.shapeshift.launcher.RoleProcesses.message;
import static dev.shapeshift.launcher.RoleProcesses.newShape;
import static dev.shapeshift.launcher.RoleProcesses.phase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.coordinator.drive.DriveLoop;
import dev.shapeshift.coordinator.drive.HaltPoint;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.launcher.RoleProcesses.Children;
import dev.shapeshift.launcher.RoleProcesses.Db;
import dev.shapeshift.launcher.RoleProcesses.UsersLoad;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13: the driving coordinator dies at four step boundaries of one migration and each time a
 * standby takes over. Every Shapeshift process is a child JVM started with the commands a user
 * runs (five coordinators, a cdc-bridge, a worker; {@code shapeshift start}, then the approvals
 * from the CLI) under an application's write load. The leader is killed by its own fault-injection
 * hook ({@link HaltPoint}, {@code -Dshapeshift.fault.haltAt=…}: {@code Runtime.halt(137)}, as abrupt
 * as SIGKILL) exactly at
 *
 * <ol>
 *   <li>{@code expand-ddl} — after the expand's DDL committed, before the move to {@code expanded};</li>
 *   <li>{@code plan-stored} — mid-planning: the chunk plan committed, no chunk task published, still {@code syncing};</li>
 *   <li>{@code reconcile-range:2} — mid-reconcile: two ranges of the run after the backfill checkpointed;</li>
 *   <li>{@code phase-reads-switched} — between {@code reads-switched} (approved from the CLI) and {@code contract-ready}.</li>
 * </ol>
 *
 * All five coordinators are armed alike and start together: a point halts one coordinator once
 * per migration (the hook audits the halt first and passes a point already audited), so whichever
 * standby wins the lock takes over, passes the point and halts at the next; the fifth finishes.
 * Every check is this test's own query: an event trigger logs the DDL; the chunk rows, the plan
 * and the reconcile run are placed against the audited kills; the audit's order puts each
 * takeover between the two phase moves that bound its boundary; target = transform(source) before
 * the contract.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class CoordinatorTakeoverIT {
    private static final int ROWS = 3000;
    private static final String NAME = "takeover";

    /** Kept when the test fails: the children's logs (coordinators, bridge, worker) are the evidence. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;
    private Children children;
    private final UsersLoad load = new UsersLoad();
    private Db db;

    @BeforeEach
    void children() {
        children = new Children(dir, "TAKEOVER");
    }

    @AfterEach
    void stop() throws Exception {
        load.stop();
        children.stopAll(30);
        if (db != null) {
            // The slot is cluster-wide: leave none retaining WAL for the tests after this one.
            db.sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + db.slot
                    + "' AND NOT active");
        }
    }

    @Test
    void aStandbyTakesOverAtEachStepBoundaryAndNoStepIsRepeated(PostgresServer pg, KafkaBroker kafka) throws Exception {
        db = setUp(pg);
        Path spec = spec();
        String bootstrap = kafka.bootstrapServers();
        // Five coordinators armed alike: each point halts one of them once; four kills leave one standing.
        List<String> coordinators = List.of("coordinator-a", "coordinator-b", "coordinator-c", "coordinator-d", "coordinator-e");
        for (String c : coordinators) {
            coordinator(c, db, bootstrap, String.join(",", POINTS));
        }
        children.start("bridge", db.args("cdc-bridge", "--bootstrap", bootstrap, "--partitions", "3", "--replication", "1",
                "--heartbeat-ms", "1000", "--slot", db.slot));
        children.start("worker", db.args("worker", "--bootstrap", bootstrap, "--worker-id", "w1", "--session-timeout-ms", "6000"));
        for (String c : coordinators) {
            children.awaitLog(c, "coordinator listening on");
        }
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200)).until(() -> coordinators.stream()
                .filter(c -> children.logText(c).contains("driver leadership acquired")).count() == 1);
        load.start(db, ROWS, 13, "TAKEOVER");
        MainTest.Run start = MainTest.run(db.args("start", spec.toString()));
        assertThat(start.exit()).as(start.out() + start.err()).isZero();

        // Three kills on the way to verified; the fourth once the read switch is approved.
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> message(db, NAME), m -> m != null && m.contains("shapeshift phase advance " + NAME
                        + " --to reads-switched"));
        assertThat(halted(coordinators)).as("halted at expand-ddl, plan-stored and reconcile-range:2").hasSize(3);
        load.stop();
        assertThat(load.writes()).as("the application wrote during the migration").isPositive();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> db.count(WRONG) == 0);
        MainTest.untilExitZero(db.args("phase", "advance", NAME, "--to", "reads-switched", "--reason", "test: evidence reviewed"));
        try {
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> phase(db, NAME), p -> p.equals("contract-ready"));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // The access watch's own account of what kept the contract closed: offenders, exclusion, sightings.
            MainTest.Run evidence = MainTest.run(db.args("evidence", NAME, "--output", "json"));
            throw new AssertionError("not contract-ready; evidence: " + evidence.out() + evidence.err() + "\nsightings: "
                    + db.column("SELECT kind || ' ' || id || ' ' || by_shapeshift || '/' || by_other "
                    + "FROM shapeshift.contract_sighting WHERE migration = '" + NAME + "' ORDER BY kind, id"), e);
        }
        assertThat(db.count(WRONG)).as("target = transform(source) before the contract").isZero();
        Map<Long, Boolean> before = newShape(db);
        assertThat(before).hasSizeGreaterThan(ROWS / 2);
        MainTest.untilExitZero(db.args("contract", NAME, "--reason", "test: nothing reads the old shape"));
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> db.count(
                "SELECT count(*) FROM shapeshift.audit WHERE migration = '" + NAME + "' AND action = 'driver cleanup'") == 1);
        List<String> dead = halted(coordinators);
        assertThat(dead).as("four coordinators halted, one drives").hasSize(4);
        for (String c : dead) {
            assertThat(children.get(c).exitValue()).as("%s halted by the fault-injection hook", c).isEqualTo(HaltPoint.EXIT);
        }

        // It completed, and nothing was done twice.
        assertThat(phase(db, NAME)).isEqualTo("contracted");
        assertThat(newShape(db)).as("the new shape after the contract").isEqualTo(before);
        assertThat(load.failures()).as("application statements that failed").isZero();
        assertThat(db.count("SELECT count(*) FROM ddl_log WHERE tag = 'ALTER TABLE' AND query ILIKE '%add%email_verified%'"))
                .as("the expand DDL ran once").isEqualTo(1);
        assertThat(db.count("SELECT count(*) FROM ddl_log WHERE tag = 'ALTER TABLE' AND query ILIKE '%add%email_verified%' "
                + "AND at < (SELECT at FROM shapeshift.audit WHERE action = '" + fault("expand-ddl") + "')"))
                .as("... and committed before the first kill").isEqualTo(1);
        assertThat(db.count("SELECT count(*) FROM shapeshift.backfill_plan WHERE migration = '" + NAME + "'")).isEqualTo(1);
        assertThat(db.count("SELECT count(*) FROM shapeshift.audit WHERE migration = '" + NAME
                + "' AND action LIKE 'backfill planned%'")).as("planned once").isEqualTo(1);
        assertThat(db.count("SELECT count(*) FROM shapeshift.audit WHERE migration = '" + NAME
                + "' AND action LIKE 'backfill planned%' AND id < " + faultId(db, "plan-stored")))
                .as("... before the mid-planning kill").isEqualTo(1);
        assertThat(db.text("SELECT count(*) || '=' || count(DISTINCT chunk_no) || '=' || (max(chunk_no) + 1) "
                + "FROM shapeshift.chunk WHERE migration = '" + NAME + "'")).as("one chunk row per number 0..n-1")
                .matches("(\\d+)=\\1=\\1");
        assertThat(db.count("SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + NAME + "' AND status <> 'done'"))
                .isZero();
        long runAtKill = db.count("SELECT max(id) FROM shapeshift.reconcile_run WHERE migration = '" + NAME + "' AND "
                + "started_at <= (SELECT at FROM shapeshift.audit WHERE action = '" + fault("reconcile-range:2") + "')");
        assertThat(db.text("SELECT status || ':' || (ranges_done > 2) FROM shapeshift.reconcile_run WHERE id = " + runAtKill))
                .as("the run interrupted after two ranges was continued to its end, not started again").isEqualTo("done:true");
        for (String to : List.of("expanded", "syncing", "backfilling", "backfilled", "verified", "reads-switched",
                "contract-ready", "contracted")) {
            assertThat(db.count("SELECT count(*) FROM shapeshift.audit WHERE migration = '" + NAME
                    + "' AND action = 'transition' AND to_phase = '" + to + "'")).as("moves to %s", to).isEqualTo(1);
        }
        assertThat(db.count("SELECT count(*) FROM shapeshift.contract_archive WHERE migration = '" + NAME + "'"))
                .as("one archive").isEqualTo(1);
        assertThat(db.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'shapeshift_archive'")).isEqualTo(1);

        // The audit: each kill, then the takeover by another instance, between the moves that bound the boundary;
        // the instance that took over is the one the next kill halts.
        List<String> takeovers = db.column("SELECT actor FROM shapeshift.audit WHERE migration = '" + NAME
                + "' AND action = '" + DriveLoop.TAKEOVER_ACTION + "' ORDER BY id");
        assertThat(takeovers).as("four takeovers").hasSize(4).doesNotHaveDuplicates()
                .allMatch(actor -> actor.startsWith("coordinator@"));
        String[][] between = {{null, "expanded"}, {"syncing", "backfilling"}, {"backfilled", "verified"},
                {"reads-switched", "contract-ready"}};
        for (int i = 0; i < 4; i++) {
            long kill = faultId(db, POINTS.get(i));
            long takeover = db.count("SELECT id FROM shapeshift.audit WHERE migration = '" + NAME + "' AND action = '"
                    + DriveLoop.TAKEOVER_ACTION + "' AND actor = '" + takeovers.get(i) + "'");
            String killed = db.text("SELECT actor FROM shapeshift.audit WHERE id = " + kill);
            assertThat(killed).as("kill %d: the instance that took over last", i + 1)
                    .isEqualTo(i == 0 ? killed : takeovers.get(i - 1)).isNotEqualTo(takeovers.get(i));
            if (between[i][0] != null) {
                assertThat(kill).as("kill %d after the move to %s", i + 1, between[i][0]).isGreaterThan(moveId(db, between[i][0]));
            }
            assertThat(takeover).as("takeover %d after kill %d", i + 1, i + 1).isGreaterThan(kill);
            assertThat(takeover).as("takeover %d before the move to %s", i + 1, between[i][1])
                    .isLessThan(moveId(db, between[i][1]));
        }
        System.out.printf("TAKEOVER four kills, four takeovers: %s; application writes %d%n", takeovers, load.writes());
    }

    /** The boundaries, in the order the migration reaches them. */
    private static final List<String> POINTS = List.of("expand-ddl", "plan-stored", "reconcile-range:2", "phase-reads-switched");

    private static String fault(String point) {
        return HaltPoint.AUDIT_ACTION + point;
    }

    private static long faultId(Db db, String point) throws SQLException {
        return db.count("SELECT id FROM shapeshift.audit WHERE migration = '" + NAME + "' AND action = '" + fault(point) + "'");
    }

    private List<String> halted(List<String> names) {
        return names.stream().filter(n -> !children.get(n).isAlive()).toList();
    }

    private static long moveId(Db db, String to) throws SQLException {
        return db.count("SELECT id FROM shapeshift.audit WHERE migration = '" + NAME + "' AND action = 'transition' "
                + "AND to_phase = '" + to + "'");
    }

    private Db setUp(PostgresServer pg) throws Exception {
        Db db = RoleProcesses.users(pg.jdbcUrl(pg.createDatabase("takeover")), pg.user(), pg.password(), dir, ROWS);
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        db.slot = "takeover_" + suffix;
        db.token = Files.writeString(dir.resolve("token"), "takeover-admin-token-" + suffix);
        // The test's own record of every DDL statement, whoever runs it.
        db.sql("CREATE TABLE ddl_log (at timestamptz NOT NULL DEFAULT clock_timestamp(), tag text, query text)",
                "CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "INSERT INTO public.ddl_log (tag, query) VALUES (tg_tag, current_query()); END $$",
                "CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION log_ddl()");
        return db;
    }

    /** In place; chunks and reconcile ranges of 400 keys so a run has several; short evidence periods. */
    private Path spec() throws IOException {
        return Files.writeString(dir.resolve(NAME + ".yaml"), UsersSpec.yaml(NAME, """
                mode: in-place
                backfill:
                  chunkRows: 400
                  batchRows: 100
                reconcile:
                  interval: 2s
                  recheckAfter: 1s
                  rangeRows: 400
                switch:
                  cleanFor: 1s
                contract:
                  dropColumns: [legacy_verified_at]
                  quietPeriod: 3s
                """));
    }

    /** A coordinator that drives through Kafka, halting at {@code haltAt} when that is not null. */
    private Process coordinator(String name, Db db, String bootstrap, String haltAt) throws IOException {
        List<String> jvm = haltAt == null ? List.of() : List.of("-D" + HaltPoint.PROPERTY + "=" + haltAt);
        return children.start(name, jvm, db.args("coordinator", "--bootstrap", bootstrap, "--partitions", "3", "--port", "0",
                "--admin-token-file", db.token.toString()));
    }
}
