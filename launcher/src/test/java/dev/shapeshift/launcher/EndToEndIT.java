package dev.shapeshift.launcher;

import static dev.shapeshift.launcher.RoleProcesses.WRONG;
import static dev.shapeshift.launcher.RoleProcesses.message;
import static dev.shapeshift.launcher.RoleProcesses.newShape;
import static dev.shapeshift.launcher.RoleProcesses.phase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's whole migration through the commands a user runs, against a real PostgreSQL and a real
 * Kafka, every Shapeshift process a child JVM: the roles started the way a deployment starts them
 * (coordinator, cdc-bridge, two workers; {@code shapeshift start}), and the one-process
 * {@code shapeshift run} killed with SIGKILL mid-backfill and started again. In both the driver
 * takes the migration to {@code verified} under an application's write load; the read switch and
 * the contract are approved from the CLI ({@code phase advance}, {@code contract}); an independent
 * query checks target = transform(source) before the contract, and the values after it.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class EndToEndIT {
    private static final int ROWS = 4000;

    @TempDir
    Path dir;
    private Children children;
    private final UsersLoad load = new UsersLoad();

    @BeforeEach
    void children() {
        children = new Children(dir, "E2E");
    }

    @AfterEach
    void stop() throws Exception {
        load.stop();
        // The temp dir goes with the test: keep what each child said in the report.
        children.stopAll(40);
    }

    @Test
    void separateRoleProcessesAndTheCli(PostgresServer pg, KafkaBroker kafka) throws Exception {
        Db db = RoleProcesses.users(pg.jdbcUrl(pg.createDatabase("e2e_roles")), pg.user(), pg.password(), dir, ROWS);
        db.runAsDocumentedRole();
        Path spec = spec("e2e-roles");
        Path token = Files.writeString(dir.resolve("token"), "e2e-admin-token-" + UUID.randomUUID());
        children.start("coordinator", db.args("coordinator", "--bootstrap", kafka.bootstrapServers(), "--partitions", "3",
                "--port", "0", "--admin-token-file", token.toString()));
        children.start("bridge", db.args("cdc-bridge", "--bootstrap", kafka.bootstrapServers(), "--partitions", "3", "--replication", "1",
                "--heartbeat-ms", "1000"));
        for (String w : List.of("w1", "w2")) {
            children.start("worker-" + w, db.args("worker", "--bootstrap", kafka.bootstrapServers(), "--worker-id", w,
                    "--session-timeout-ms", "6000"));
        }
        load.start(db, ROWS, 42, "E2E");
        MainTest.Run start = MainTest.run(db.args("start", spec.toString()));
        assertThat(start.exit()).as(start.out() + start.err()).isZero();
        assertThat(start.out()).contains("registered in phase planned");

        finish(db, "e2e-roles", null);
    }

    @Test
    void runInOneProcessResumesAfterSigkillMidBackfill(PostgresServer pg) throws Exception {
        Db db = RoleProcesses.users(pg.jdbcUrl(pg.createDatabase("e2e_run")), pg.user(), pg.password(), dir, ROWS);
        Path spec = spec("e2e-run");
        Path data = dir.resolve("data");
        String[] run = db.args("run", spec.toString(), "--data-dir", data.toString(), "--workers", "2", "--partitions", "3",
                "--status-every", "1s", "--heartbeat", "1s");
        load.start(db, ROWS, 42, "E2E");
        Process first = children.start("run-1", run);
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            long[] c = chunks(db, "e2e-run");
            return c[1] > 0 && c[0] >= 1 && c[0] < c[1];
        });
        long[] atKill = chunks(db, "e2e-run");
        first.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no shutdown hook runs
        System.out.printf("E2E killed run mid-backfill: %d of %d chunks done%n", atKill[0], atKill[1]);

        Process second = children.start("run-2", run);
        finish(db, "e2e-run", second);
        assertThat(children.logText("run-2")).contains("already registered with this spec")
                .contains("dashboard and API: http://");
        assertThat(children.logText("run-2")).contains("contracted and cleaned up");
        assertThat(chunks(db, "e2e-run")[1]).as("the backfill was planned once").isEqualTo(atKill[1]);
        assertThat(db.count("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"))
                .as("run leaves no replication slot retaining WAL").isZero();
    }

    /**
     * From registration to the end: the driver reaches verified under load; the load stops; the
     * independent check; the read switch and the contract approved from the CLI; the check after
     * the contract. With {@code run}, that process must exit 0 by itself once contracted.
     */
    private void finish(Db db, String name, Process run) throws Exception {
        // As a script would: block on the CLI until the driver reached verified.
        MainTest.Run verified = MainTest.run(db.args("wait", name, "--for", "verified", "--timeout", "4m", "--interval", "500ms"));
        assertThat(verified.exit()).as(verified.out() + verified.err()).isZero();
        assertThat(verified.out()).contains(name + " is verified");
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                .until(() -> message(db, name), m -> m != null && m.contains("shapeshift phase advance " + name
                        + " --to reads-switched"));
        load.stop();
        assertThat(load.writes()).as("the application wrote during the migration").isPositive();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> db.count(WRONG) == 0);
        Map<Long, Boolean> before = newShape(db);
        assertThat(before).hasSizeGreaterThan(ROWS / 2);

        MainTest.untilExitZero(db.args("phase", "advance", name, "--to", "reads-switched", "--reason", "e2e: evidence reviewed"));
        MainTest.untilExitZero(db.args("contract", name, "--reason", "e2e: nothing reads the old shape"));
        assertThat(phase(db, name)).isEqualTo("contracted");
        assertThat(db.count("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                + "AND column_name = 'legacy_verified_at'")).as("old column dropped").isZero();
        assertThat(newShape(db)).as("the new shape after the contract").isEqualTo(before);
        assertThat(load.failures()).as("application statements that failed").isZero();
        assertThat(db.count("SELECT count(*) FROM shapeshift.audit WHERE migration = '" + name
                + "' AND to_phase = 'backfilling'")).as("one move to backfilling").isEqualTo(1);
        if (run != null) {
            assertThat(run.waitFor(2, TimeUnit.MINUTES)).as("run exits once contracted and cleaned up").isTrue();
            assertThat(run.exitValue()).isZero();
        }
    }

    /** In place; a backfill capped at 300 rows/s so a kill lands mid-backfill; short evidence periods. */
    private Path spec(String name) throws IOException {
        return Files.writeString(dir.resolve(name + ".yaml"), UsersSpec.yaml(name, """
                mode: in-place
                backfill:
                  chunkRows: 500
                  batchRows: 100
                  maxRowsPerSecond: 300
                reconcile:
                  interval: 2s
                  recheckAfter: 1s
                switch:
                  cleanFor: 1s
                contract:
                  dropColumns: [legacy_verified_at]
                  quietPeriod: 3s
                """));
    }

    private static long[] chunks(Db db, String name) throws SQLException {
        return new long[] {db.count("SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + name + "' AND status = 'done'"),
                db.count("SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + name + "'")};
    }
}
