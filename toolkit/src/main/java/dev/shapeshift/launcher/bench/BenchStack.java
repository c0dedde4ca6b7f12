package dev.shapeshift.launcher.bench;

import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedKafka;
import dev.shapeshift.embedded.EmbeddedPostgres;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Map;

/**
 * The servers one benchmark runs on, started in the same way for each: an embedded PostgreSQL
 * (fsync on) with a database of its own holding Shapeshift's catalog ({@link BenchDb#withCatalog}),
 * and an embedded Kafka broker where the benchmark runs the product's workers. Keeps when the
 * benchmark started (before the servers) and the machine's description for the report, taken
 * once the database is set up. Closing stops the broker, then the server.
 *
 * @param kafka null without a broker ({@link #postgres})
 */
record BenchStack(OffsetDateTime started, EmbeddedPostgres pg, EmbeddedKafka kafka, Database db,
                  Map<String, String> machine) implements AutoCloseable {

    /** A server and database {@code database}, then {@code setup} run in order ({@link BenchDb#describeAndRun}). */
    static BenchStack postgres(String database, String... setup) throws SQLException {
        return start(false, database, setup);
    }

    /** A server and database {@code database}, and a Kafka broker. */
    static BenchStack withKafka(String database) throws SQLException {
        return start(true, database);
    }

    private static BenchStack start(boolean withKafka, String database, String... setup) throws SQLException {
        OffsetDateTime started = OffsetDateTime.now();
        EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.defaults());
        EmbeddedKafka kafka = null;
        try {
            kafka = withKafka ? EmbeddedKafka.start() : null;
            Database db = BenchDb.withCatalog(pg, database);
            return new BenchStack(started, pg, kafka, db, BenchDb.describeAndRun(db, setup));
        } catch (SQLException | RuntimeException e) {
            try (EmbeddedPostgres p = pg; EmbeddedKafka k = kafka) {
                throw e;
            }
        }
    }

    /** A meter of the server's CPU seconds (and this JVM's). */
    ServerCpu cpu() {
        return new ServerCpu(pg.dataDir());
    }

    @Override
    public void close() {
        try (EmbeddedPostgres p = pg; EmbeddedKafka k = kafka) {
            // the broker closes first, then the server, as two resources of one try would
        }
    }
}
