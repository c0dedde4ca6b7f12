package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.FindingStore;
import dev.shapeshift.catalog.StreamState;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.scenarios.ScenarioRunner.Outcome;
import dev.shapeshift.spec.Structure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scenario directory under {@code src/test/resources/scenarios/}, one whole migration each:
 * real PostgreSQL and Kafka, a bridge and two workers as child JVMs, the seeded application writing
 * during sync and backfill, catch-up, then the independent check of {@code expected.sql} against the
 * target. Results are appended to {@code target/scenarios.md}.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class ScenariosIT {

    static Stream<Scenario> scenarios() {
        return Scenario.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void scenario(Scenario scenario, PostgresServer pg, KafkaBroker kafka) throws Exception {
        try (ScenarioRunner run = new ScenarioRunner(scenario, pg, kafka, Soak.scale(), 2, 1, Soak.seedOverride())) {
            Outcome o = run.run(null);
            record(o);
            Expected expected = scenario.expected();
            if (expected.shouldConverge()) {
                // The driver moved it to backfilled through the gate, and may have reconciled it to verified since.
                assertThat(o.phase()).isIn(Phase.BACKFILLED, Phase.VERIFIED);
                assertThat(run.count("SELECT count(*) FROM shapeshift.audit WHERE migration = '" + o.migration()
                        + "' AND action = 'transition' AND to_phase = 'backfilled' AND actor = 'coordinator-driver'"))
                        .as("one move to backfilled, by the driver").isOne();
                assertThat(o.check().clean()).as("target = expected.sql, no zombies: %s", o.check()).isTrue();
                assertThat(o.appFailures()).as("application transactions failed").isZero();
                if (expected.maxBackfillSeconds() != null) {
                    assertThat(o.backfillSeconds()).as("backfill time (a stall that looks healthy)")
                            .isLessThanOrEqualTo(expected.maxBackfillSeconds() * (double) Soak.scale());
                }
                if (expected.findings() != null) {
                    assertFindings(run, expected.findings());
                }
                negativeControl(run);
            } else {
                assertStopped(run, expected.stops());
            }
        }
    }

    /**
     * The driver's enforcement found the rows that violate the staged structure: once the writes
     * stopped, its next look (every {@code reconcile.interval}) stores, per item, the total the
     * scenario's own query counts and only keys its own query names as violators (all of them when
     * at most {@link FindingStore#KEPT}); the item is not enforced in the database.
     */
    static void assertFindings(ScenarioRunner run, List<Expected.Finding> expected) throws Exception {
        for (Expected.Finding e : expected) {
            Set<String> violators = strings(run, e.violators());
            long total = run.count(e.total());
            assertThat(violators).as("%s: the scenario's data must violate it", e.item()).isNotEmpty();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                List<FindingStore.Finding> found = new FindingStore(run.catalog).list(run.spec.name()).stream()
                        .filter(f -> f.item().equals(e.item())).toList();
                assertThat(found).as("findings of %s", e.item()).isNotEmpty().allMatch(f -> f.kind().equals(e.kind()))
                        .allMatch(f -> f.total() == total);
                Set<String> keys = strings(run, "SELECT DISTINCT v #>> '{}' FROM shapeshift.finding f, "
                        + "jsonb_path_query(f.key, 'strict $.**') v WHERE jsonb_typeof(v) = 'string' AND f.migration = '"
                        + run.spec.name() + "' AND f.item = '" + e.item() + "'");
                assertThat(violators).as("stored keys are violators").containsAll(keys);
                if (total <= FindingStore.KEPT) {
                    assertThat(keys).as("every violator stored").isEqualTo(violators);
                }
            });
            try (Connection c = run.db.connect("test")) {
                assertThat(Structure.pending(c, run.spec)).as("not enforced over violating rows").contains(e.item());
            }
        }
    }

    private static Set<String> strings(ScenarioRunner run, String sql) throws SQLException {
        Set<String> out = new TreeSet<>();
        try (Connection c = run.db.connect("test"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /**
     * Tests the test: with the coordinator, the bridge and the workers gone (nothing repairs behind the check's back),
     * one target value is nulled, one target row deleted and one deleted key put back; the same
     * independent check must see exactly those.
     */
    static void negativeControl(ScenarioRunner run) throws Exception {
        run.stopRoles();
        String target = run.spec.targetSchema() + "." + run.spec.targetTable();
        String column = run.spec.target().columns().get(0).name();
        boolean tableMode = run.spec.mode() == dev.shapeshift.spec.Mode.TABLE;
        run.sql("UPDATE " + target + " SET " + column + " = NULL WHERE ctid = (SELECT ctid FROM " + target + " WHERE "
                + column + " IS NOT NULL LIMIT 1)");
        List<List<String>> deleted = run.load.deletedKeys();
        int missing = 0;
        int zombies = 0;
        if (tableMode) {
            run.sql("DELETE FROM " + target + " WHERE ctid = (SELECT ctid FROM " + target + " WHERE " + column
                    + " IS NOT NULL LIMIT 1)");
            missing = 1;
            if (!deleted.isEmpty()) {
                KeyKind kind = run.workload.keyKind();
                List<String> zombie = deleted.get(0);
                StringBuilder values = new StringBuilder();
                for (int i = 0; i < zombie.size(); i++) {
                    values.append(i == 0 ? "" : ", ").append("'").append(zombie.get(i)).append("'::").append(kind.types.get(i));
                }
                run.sql("INSERT INTO " + target + " (" + String.join(", ", kind.names) + ") VALUES (" + values + ")");
                zombies = 1;
            }
        }
        Checker.Result corrupted = run.checker.check(deleted);
        System.out.println("NEGATIVE CONTROL " + run.scenario.name() + ": " + corrupted);
        assertThat(corrupted.stale()).as("nulled value seen: %s", corrupted).isEqualTo(1);
        assertThat(corrupted.missing()).as("deleted target row seen: %s", corrupted).isEqualTo(missing);
        assertThat(corrupted.zombies()).as("resurrected key seen: %s", corrupted).isEqualTo(zombies);
        assertThat(corrupted.extra()).isEqualTo(zombies);
    }

    /**
     * The migration stopped loudly where expected.yaml says, and what the target holds is not wrong.
     * A sync stop shows in the durable sync stream rows the gates read ({@code STOPPED_ERROR} with
     * the worker's message) — or in the migration's message, which the driver rewrites with what it
     * waits for on its next tick.
     */
    static void assertStopped(ScenarioRunner run, Expected.Stop stop) {
        List<String> codes = Arrays.stream(stop.code().split(",")).map(String::strip).toList();
        String text = stop.messageContains();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(90))
                .pollInterval(java.time.Duration.ofMillis(500)).untilAsserted(() -> {
                    String message = String.valueOf(run.catalog.get(run.spec.name()).message());
                    List<String> errors = run.chunkErrors();
                    List<String> streams = run.syncStreams().stream().filter(s -> s.state() == StreamState.STOPPED_ERROR)
                            .map(s -> String.valueOf(s.message())).toList();
                    boolean sync = Stream.concat(Stream.of(message), streams.stream())
                            .anyMatch(m -> m.startsWith("sync stopped") && m.contains(text));
                    boolean chunk = errors.stream().anyMatch(e -> e.contains(text));
                    for (String code : codes) {
                        switch (code) {
                            case "STOPPED_ERROR" -> assertThat(sync).as("sync stop message, got '%s', stopped streams %s",
                                    message, streams).isTrue();
                            case "CHUNK_FAILED" -> assertThat(chunk).as("failed chunk naming it, got %s", errors).isTrue();
                            case "ANY" -> assertThat(sync || chunk).as("a stop naming '%s': message '%s', stopped streams "
                                    + "%s, chunks %s", text, message, streams, errors).isTrue();
                            default -> throw new IllegalArgumentException("expected.yaml: unknown stop code " + code);
                        }
                    }
                });
        assertThat(run.catalog.get(run.spec.name()).phase())
                .as("a stopped migration does not reach backfilled").isEqualTo(Phase.BACKFILLING);
        Checker.Result now = run.checker.check(run.load.deletedKeys());
        System.out.println("STOPPED " + run.scenario.name() + " target vs expected.sql: " + now);
        assertThat(now.stale()).as("no target row holds a wrong value: %s", now).isZero();
        assertThat(now.extra()).as("no target row for a row the transform cannot compute: %s", now).isZero();
        assertThat(now.zombies()).isZero();
    }

    static void record(Outcome o) throws IOException {
        Path out = Path.of("target", "scenarios.md");
        if (!Files.exists(out)) {
            Files.writeString(out, "| scenario | seed | phase | chunks | extra attempts | txs | row changes | app failures "
                    + "| backfill s | catch-up s | check |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
        }
        Files.writeString(out, String.format(Locale.ROOT, "| %s | %d | %s | %d/%d | %d | %d | %d | %d | %.1f | %.1f | %s |%n",
                o.scenario(), o.seed(), o.phase().label(), o.totals().done(), o.totals().chunks(), o.extraAttempts(),
                o.transactions(), o.rowChanges(), o.appFailures(), o.backfillSeconds(), o.catchUpSeconds(), o.check()),
                StandardOpenOption.APPEND);
    }
}
