package dev.shapeshift.worker.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkRow;
import dev.shapeshift.sinks.MemorySink;
import dev.shapeshift.worker.throttle.SyncBacklog;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The backfill of a sink-mode migration: chunks from Kafka, leased and checkpointed in the catalog,
 * their rows applied to the memory test sink. While the sink is down the chunks wait and say why
 * (their throttle reason); once it is back every chunk finishes and the sink holds
 * transform(source), checked against a Java model.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class SinkBackfillIT {

    @Test
    void chunksWaitForADownSinkWithTheReasonThenCopyEveryRow(PostgresServer pg, KafkaBroker kafka) throws Exception {
        MemorySink.Store store = MemorySink.store("sink-backfill");
        store.down = true;
        BackfillFixture f = new BackfillFixture(pg, KeyKind.COMPOSITE, BackfillFixture.backfill(400, 50, 0),
                Map.of("store", "sink-backfill", "maxAttempts", "2", "backoff", "50")).create(3000);
        Topics.ensure(kafka.bootstrapServers(), Map.of(Topics.chunks(f.migration), 6), (short) 1);
        List<ChunkConsumer> consumers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (String id : List.of("w1", "w2")) {
            ChunkConsumer c = new ChunkConsumer(f.db, kafka.bootstrapServers(), f.resolved, BackfillFixture.config(id),
                    SyncBacklog.NONE);
            consumers.add(c);
            Thread t = new Thread(c, "backfill-" + id);
            threads.add(t);
            t.start();
        }
        try {
            f.planAndPublish(kafka.bootstrapServers());
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
                    count(f, "SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + f.migration
                            + "' AND throttle_reason LIKE 'sink degraded: sink ''memory'' failed 2 attempts to apply: "
                            + "memory sink: connection refused%'") > 0);
            assertThat(store.live()).as("nothing applied while the sink is down").isEmpty();
            assertThat(count(f, "SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + f.migration
                    + "' AND (status = 'done' OR rows_copied > 0)")).as("no checkpoint past unapplied rows").isZero();

            store.down = false;
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> {
                var t = f.store.totals(f.migration);
                return t.chunks() > 0 && t.done() == t.chunks();
            });
            assertThat(mismatches(f, store.live())).as("sink vs Java model").isEmpty();
            assertThat(count(f, "SELECT count(*) FROM shapeshift.chunk WHERE migration = '" + f.migration
                    + "' AND throttle_reason IS NOT NULL")).isZero();
        } finally {
            consumers.forEach(ChunkConsumer::close);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
    }

    private static long count(BackfillFixture f, String sql) throws Exception {
        try (Connection c = f.db.connect("test"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Keys whose sink row differs from the model's (missing, extra or different), up to 10. */
    private static List<String> mismatches(BackfillFixture f, Map<SinkKey, SinkRow> live) throws Exception {
        Map<SinkKey, List<String>> expected = new HashMap<>();
        try (Connection c = f.db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT region, n::text, a, b FROM src")) {
            while (rs.next()) {
                int a = rs.getInt(3);
                String b = rs.getString(4);
                expected.put(SinkKey.of(rs.getString(1), rs.getString(2)), Arrays.asList(Integer.toString(a * 2),
                        a % 5 == 0 || b == null ? null : b.toUpperCase(Locale.ROOT)));
            }
        }
        List<String> out = new ArrayList<>();
        for (var e : expected.entrySet()) {
            SinkRow got = live.get(e.getKey());
            if (got == null || !new ArrayList<>(got.values().values()).equals(e.getValue())) {
                out.add(e.getKey() + " " + (got == null ? "missing" : got.values()));
            }
        }
        live.keySet().stream().filter(k -> !expected.containsKey(k)).forEach(k -> out.add(k + " extra"));
        return out.subList(0, Math.min(10, out.size()));
    }
}
