package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.catalog.StreamState;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.contract.Rollback;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.worker.sync.SyncSkip;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The menu story's sink under faults ({@link MenuRun}): the translation service killed and
 * restarted mid-backfill, answers slower than the sink's timeout mid-backfill, and a label the
 * service refuses (a poison row) during sync. Each run ends with the independent check (every
 * menu row's label read by the test, compared with the service's binding of that row and the
 * German text written by hand); the kill case then waits for the driver to verify and contract the
 * sink-mode migration, and ends with a negative control; the poison case ends with a rollback.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class MenuSinkIT {

    private static final Duration CONVERGE = Duration.ofSeconds(180);

    @Test
    void theServiceKilledAndRestartedMidBackfillLosesNothing(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (MenuRun run = new MenuRun(pg, kafka, "kill", false, 100)) {
            run.startToBackfilling();
            Chunk running = awaitRunningChunk(run);
            run.stack.kill("translate");
            long killed = System.nanoTime();
            Thread.sleep(4000); // down past the sink's retry policy (3 attempts, 200 ms doubling)
            run.startService();
            run.awaitPhase(Phase.BACKFILLED, Duration.ofSeconds(300));
            long recovered = System.nanoTime() - killed;
            run.stopApplication();
            MenuRun.Check check = awaitClean(run);
            // The driver reconciles transform(source) against the sink's read back (GET /refs) and verifies; with
            // the spec's auto approvals it then switches reads and contracts (sink mode drops nothing).
            long verifyFrom = System.nanoTime();
            run.awaitPhase(Phase.VERIFIED, Duration.ofSeconds(180));
            long verifyMs = (System.nanoTime() - verifyFrom) / 1_000_000;
            run.awaitPhase(Phase.CONTRACTED, Duration.ofSeconds(180));
            System.out.println("MENU contracted: " + run.catalog.get(run.name).message());
            int extraAttempts = run.chunks.chunks(run.name).stream().mapToInt(c -> Math.max(0, c.attempts() - 1)).sum();
            System.out.printf("MENU kill: chunk %d had %d rows copied at the kill; service down 4 s; backfilled %d ms after "
                            + "the kill; verified %d ms after the check was clean; extra chunk attempts %d; app writes %d (failed %d); %s%n",
                    running.number(), running.rowsCopied(), recovered / 1_000_000, verifyMs, extraAttempts, run.appWrites.get(), run.appFailures.get(), check);
            assertThat(run.appFailures.get()).isZero();

            // Negative control: with Shapeshift stopped (nothing repairs behind the check's back), one label
            // changed, one row inserted and one deleted directly must show as 1 wrong key, 1 missing, 1 zombie.
            run.stopShapeshift();
            long live = minId(run, 0);
            long victim = minId(run, live);
            run.sql("UPDATE menu_items SET label = 'Tampered dish' WHERE id = " + live,
                    "INSERT INTO menu_items (id, label, price) VALUES (999999999, 'Unseen dish', 1)",
                    "DELETE FROM menu_items WHERE id = " + victim);
            run.deleted.add(victim);
            MenuRun.Check control = run.check(Set.of());
            assertThat(control.wrongKey()).as("negative control: %s", control).isEqualTo(1);
            assertThat(control.missing()).as("negative control: %s", control).isEqualTo(1);
            assertThat(control.zombies()).as("negative control: %s", control).isEqualTo(1);
        }
    }

    @Test
    void answersSlowerThanTheTimeoutMidBackfillDelayButLoseNothing(PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (MenuRun run = new MenuRun(pg, kafka, "slow", true, 100)) {
            run.startToBackfilling();
            awaitRunningChunk(run);
            run.proxy.delayReplies(1500); // the sink's timeoutMs is 1000
            long slowFrom = System.nanoTime();
            Set<String> seen = ConcurrentHashMap.newKeySet();
            // At least 8 s, and on until the product has said so (at most 60 s): under load the sink's three
            // attempts and their back-off can outlast a fixed 8 s window (failed once in CI that way).
            while (System.nanoTime() - slowFrom < Duration.ofSeconds(8).toNanos()
                    || (seen.isEmpty() && System.nanoTime() - slowFrom < Duration.ofSeconds(60).toNanos())) {
                run.chunks.chunks(run.name).stream().map(Chunk::error).filter(e -> e != null && e.contains("did not answer"))
                        .findFirst().ifPresent(e -> seen.add("chunk: " + e));
                run.syncStreams().stream().filter(s -> s.state() == StreamState.DEGRADED)
                        .findFirst().ifPresent(s -> seen.add("sync " + s.state() + ": " + s.message()));
                Thread.sleep(100);
            }
            run.proxy.delayReplies(0);
            run.awaitPhase(Phase.BACKFILLED, Duration.ofSeconds(300));
            long recovered = System.nanoTime() - slowFrom;
            run.stopApplication();
            MenuRun.Check check = awaitClean(run);
            System.out.printf("MENU slow: answers delayed 1.5 s (timeout 1 s) for at least 8 s; backfilled %d ms after the slowdown "
                    + "began; seen: %s; %s%n", recovered / 1_000_000, seen, check);
            assertThat(seen).as("the slowdown bit: a chunk or the sync waited for the sink, with the reason").isNotEmpty();
            assertThat(run.appFailures.get()).isZero();
        }
    }

    @Test
    void aLabelTheServiceRefusesStopsTheSyncAtThatRowUntilTheOperatorSkipsIt(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        try (MenuRun run = new MenuRun(pg, kafka, "poison", false, 0)) {
            run.startToBackfilling();
            run.awaitPhase(Phase.BACKFILLED, Duration.ofSeconds(300));
            long poison = 900_000_000L;
            run.sql("INSERT INTO menu_items (id, label, price) VALUES (" + poison + ", 'Dish " + "x".repeat(600) + "', 1)");
            SyncStream stopped = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> run.syncStreams().stream().filter(s -> s.state() == StreamState.STOPPED_POISON).findFirst(),
                            Optional::isPresent).orElseThrow();
            System.out.printf("MENU poison: stopped %s message=%s%n", stopped.stopPosition(), stopped.message());
            assertThat(stopped.message()).contains("refused").contains(Long.toString(poison)).doesNotContain("xxxxxxxx");
            run.sql("INSERT INTO menu_items (id, label, price) SELECT g, 'New dish ' || g, 1 FROM generate_series("
                    + (poison + 1) + ", " + (poison + 20) + ") g");
            SyncSkip.request(run.catalog, run.name, stopped.stopPosition(), "scenario",
                    "the label is longer than the translation service accepts");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> run.syncStreams().stream().allMatch(s -> s.state() == StreamState.RUNNING));
            run.stopApplication();
            MenuRun.Check check = awaitClean(run, Set.of(poison));
            System.out.printf("MENU poison: skipped %s; %s%n", stopped.stopPosition(), check);
            assertThat(run.get("/refs?ids=" + poison).path("missing").toString()).as("the refused row never reached the service")
                    .isEqualTo("[\"" + poison + "\"]");
            assertThat(run.appFailures.get()).isZero();
            rollsBackLeavingTheServiceAsItIs(run, poison);
        }
    }

    /**
     * A rollback of the sink-mode migration, as {@code shapeshift rollback} then {@code shapeshift
     * cleanup} do it ({@link Rollback}): the phase is rolled-back, nothing in the database is
     * dropped (the expand of a sink migration added nothing), the service keeps every text and
     * binding it holds (nothing is deleted there: its data is its owners'), and a label changed
     * once the cdc-bridge stopped capturing the rolled-back migration does not reach it (the sync
     * stopped). A change committed between the rollback and that moment (the bridge's next look,
     * well under a second here) is still captured and applied: the test waits for the bridge, as
     * the first CI run of this test showed (the rename, made 10 ms after the rollback, reached the
     * service).
     */
    private static void rollsBackLeavingTheServiceAsItIs(MenuRun run, long poison) throws Exception {
        Rollback.Result r = new Rollback(run.db, GateWiring.transitions(run.db, "scenario"), null)
                .rollback(run.name, "scenario", "scenario: roll the sink migration back", false);
        System.out.printf("MENU rollback: done=%s left=%s%n", r.done(), r.left());
        assertThat(run.catalog.get(run.name).phase()).isEqualTo(Phase.ROLLED_BACK);
        assertThat(r.left()).anyMatch(l -> l.contains("sink mode: the expand added nothing to the database"));
        assertThat(columns(run)).containsExactly("id", "label", "price");
        long id = minId(run, 0);
        String held = run.get("/refs?ids=" + id).path("refs").path(Long.toString(id)).path("text").asText();
        // The bridge stops capturing a migration at its next look at the catalog: menu_items leaves its publication.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            try (var c = run.db.connect("check"); var st = c.createStatement(); var rs = st.executeQuery(
                    "SELECT count(*) FROM pg_publication_tables WHERE tablename = 'menu_items'")) {
                rs.next();
                return rs.getLong(1) == 0;
            }
        });
        run.sql("UPDATE menu_items SET label = 'Renamed dish after the rollback' WHERE id = " + id);
        Thread.sleep(5000); // time for a sync that wrongly kept running to carry it (it takes well under a second)
        MenuRun.Check after = run.check(Set.of(poison, id));
        System.out.printf("MENU rollback: service after the rollback: %s%n", after);
        assertThat(after.clean()).as(run.describe(after)).isTrue();
        assertThat(after.untranslated()).isZero();
        assertThat(run.get("/refs?ids=" + id).path("refs").path(Long.toString(id)).path("text").asText())
                .as("the service kept the label it held before the rollback").isEqualTo(held);
    }

    private static java.util.List<String> columns(MenuRun run) throws Exception {
        java.util.List<String> out = new java.util.ArrayList<>();
        try (var c = run.db.connect("check"); var st = c.createStatement(); var rs = st.executeQuery("SELECT column_name "
                + "FROM information_schema.columns WHERE table_name = 'menu_items' ORDER BY ordinal_position")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static Chunk awaitRunningChunk(MenuRun run) {
        return await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50))
                .until(() -> run.chunks.chunks(run.name).stream()
                        .filter(c -> "running".equals(c.status()) && c.rowsCopied() > 0).findFirst(), Optional::isPresent)
                .orElseThrow();
    }

    private static MenuRun.Check awaitClean(MenuRun run) throws Exception {
        return awaitClean(run, Set.of());
    }

    /** Polls the check until clean and every key's German text is there; fails with the last result. */
    private static MenuRun.Check awaitClean(MenuRun run, Set<Long> skipped) throws Exception {
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        MenuRun.Check last = run.check(skipped);
        while (!(last.clean() && last.untranslated() == 0)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("menu run did not converge within " + CONVERGE.toSeconds() + " s: " + run.describe(last));
            }
            Thread.sleep(500);
            last = run.check(skipped);
        }
        return last;
    }

    private static long minId(MenuRun run, long above) throws Exception {
        try (var c = run.db.connect("check"); var st = c.createStatement();
             var rs = st.executeQuery("SELECT min(id) FROM menu_items WHERE id > " + above)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
