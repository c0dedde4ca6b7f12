package dev.shapeshift.worker.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.embedded.ChildJvm;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.fixtures.RowCheck;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.worker.backfill.BackfillIT.Batch;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A worker JVM killed with SIGKILL mid-chunk; another worker resumes the chunk from its checkpoint. */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class BackfillCrashIT {
    @Test
    void aKilledWorkersChunkResumesFromItsCheckpoint(PostgresServer pg, KafkaBroker kafka) throws Exception {
        BackfillFixture f = new BackfillFixture(pg, KeyKind.BIGINT, Mode.TABLE,
                BackfillFixture.backfill(1000, 50, 0)).create(3000);
        f.catalog.putSetting(f.migration, "max-rows-per-second", "200", "test", "slow enough to kill mid-chunk");
        f.planAndPublish(kafka.bootstrapServers());

        Path log = File.createTempFile("backfill-child", ".log").toPath();
        Process child = ChildJvm.main(BackfillChild.class).options("-Xmx256m").args(
                f.db.jdbcUrl(), f.db.user(), f.db.password(), kafka.bootstrapServers(), f.migration, "child",
                "8000", "6000")
                .startLoggingTo(log);
        Chunk victim;
        try {
            victim = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(
                    () -> f.store.chunks(f.migration).stream()
                            .filter(c -> c.status().equals("running") && c.rowsCopied() >= 150).findFirst(),
                    Optional::isPresent).orElseThrow();
        } finally {
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        Chunk atKill = f.store.chunk(f.migration, victim.number()).orElseThrow();
        assertThat(atKill.status()).as("killed mid-chunk").isEqualTo("running");
        assertThat(atKill.owner()).isEqualTo("child");
        assertThat(atKill.attempts()).isEqualTo(1);
        assertThat(atKill.lastKey()).isNotNull();

        f.catalog.putSetting(f.migration, "max-rows-per-second", "0", "test", "uncap");
        try (BackfillIT.Workers survivor = new BackfillIT.Workers(f, kafka.bootstrapServers(), 1)) {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
                var t = f.store.totals(f.migration);
                return t.done() == t.chunks();
            });
            Chunk resumed = f.store.chunk(f.migration, victim.number()).orElseThrow();
            assertThat(resumed.attempts()).isEqualTo(2);
            assertThat(resumed.owner()).isEqualTo("w1");
            assertThat(resumed.resumedFrom()).as("the new lease started at the stored checkpoint")
                    .isEqualTo(atKill.lastKey());
            List<Batch> mine = survivor.batches.stream().filter(b -> b.chunk() == victim.number()).toList();
            assertThat(mine.get(0).after()).as("first sub-batch of the new owner starts after the checkpoint")
                    .isEqualTo(atKill.lastKey());
            long readByNewOwner = mine.stream().mapToLong(b -> b.result().read()).sum();
            assertThat(resumed.rowsCopied()).as("rows_copied continues from the checkpoint")
                    .isEqualTo(atKill.rowsCopied() + readByNewOwner);
            assertThat(resumed.rowsCopied()).as("each row of the chunk counted once")
                    .isEqualTo(f.countInRange(resumed.lower(), resumed.upper()));
            // The audit log says who took the chunk over from whom, and from which checkpoint.
            try (java.sql.Connection c = f.db.connect("test"); java.sql.Statement st = c.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT actor, reason FROM shapeshift.audit WHERE migration = '"
                         + f.migration + "' AND action = '" + dev.shapeshift.catalog.ChunkStore.RELEASE_ACTION + "'")) {
                assertThat(rs.next()).as("one re-lease audited").isTrue();
                assertThat(rs.getString(1)).isEqualTo("worker w1");
                assertThat(rs.getString(2)).startsWith("chunk " + victim.number() + " taken over from child")
                        .contains("resumes after checkpoint key ").contains(atKill.lastKey().values());
                assertThat(rs.next()).as("only that chunk was re-leased").isFalse();
            }
        }
        assertThat(f.check()).as("no row missing or stale").isEqualTo(new RowCheck(0, 0, 0));
    }
}
