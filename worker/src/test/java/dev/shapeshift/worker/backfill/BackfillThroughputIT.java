package dev.shapeshift.worker.backfill;

import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.spec.Backfill;
import dev.shapeshift.spec.Mode;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.awaitility.Awaitility.await;

/**
 * A rough local measurement, not an assertion: rows/s of one worker backfilling 200k rows in
 * table mode (row locks, checkpoints, sub-batches) against one {@code INSERT … SELECT}.
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class BackfillThroughputIT {
    private static final int ROWS = 200_000;

    @Test
    void oneWorkerAgainstOneInsertSelect(PostgresServer pg, KafkaBroker kafka) throws Exception {
        BackfillFixture f = new BackfillFixture(pg, KeyKind.BIGINT, Mode.TABLE,
                new Backfill(20_000, 2_000, Duration.ofMillis(300), 0L, Duration.ofMillis(200), 1.2)).create(ROWS);
        try (Connection c = f.db.connect("test"); Statement s = c.createStatement()) {
            s.execute("VACUUM ANALYZE src");
            s.execute("CREATE TABLE tgt_bulk (LIKE tgt INCLUDING ALL)");
        }
        f.planAndPublish(kafka.bootstrapServers());
        long t0 = System.nanoTime();
        try (BackfillIT.Workers w = new BackfillIT.Workers(f, kafka.bootstrapServers(), 1)) {
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(100)).until(() -> {
                var t = f.store.totals(f.migration);
                return t.done() == t.chunks();
            });
        }
        double backfillSeconds = (System.nanoTime() - t0) / 1e9;
        long t1 = System.nanoTime();
        try (Connection c = f.db.connect("test"); Statement s = c.createStatement()) {
            s.execute("INSERT INTO tgt_bulk SELECT id, a * 2, CASE WHEN a % 5 = 0 THEN NULL ELSE upper(b) END FROM src");
        }
        double bulkSeconds = (System.nanoTime() - t1) / 1e9;
        System.out.printf(Locale.ROOT, "THROUGHPUT rows=%d backfill_1_worker=%.0f rows/s (%.1fs incl. Kafka start-up)"
                        + " insert_select=%.0f rows/s (%.1fs)%n",
                ROWS, ROWS / backfillSeconds, backfillSeconds, ROWS / bulkSeconds, bulkSeconds);
    }
}
