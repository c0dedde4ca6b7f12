package dev.shapeshift.bridge;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.change.ChangeCodec;
import dev.shapeshift.change.ChangeEvent;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.phase.Phase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** A fresh source database with the catalog, one bridge config with unique names, and a topic reader. */
final class BridgeFixture {
    final PostgresServer pg;
    final KafkaBroker kafka;
    final String dbName;
    final Database db;
    final Catalog catalog;
    final String slot;

    BridgeFixture(PostgresServer pg, KafkaBroker kafka, String prefix) {
        this.pg = pg;
        this.kafka = kafka;
        this.dbName = pg.createDatabase(prefix);
        this.db = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        this.catalog = new Catalog(db, "test");
        this.slot = "s_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }

    BridgeConfig config() {
        return config(db, kafka.bootstrapServers(), slot);
    }

    /** A bridge on {@link #config()}, started and streaming (the test fails if it is not within 90 s); the caller closes it. */
    CdcBridge streaming() throws InterruptedException {
        return streaming(new SimpleMeterRegistry());
    }

    /** As {@link #streaming()}, its metrics in {@code registry}. */
    CdcBridge streaming(MeterRegistry registry) throws InterruptedException {
        CdcBridge bridge = new CdcBridge(config(), registry);
        bridge.start();
        if (!bridge.awaitState(BridgeState.STREAMING, Duration.ofSeconds(90))) {
            bridge.close();
            throw new AssertionError("[streaming] the bridge did not reach STREAMING within 90 s");
        }
        return bridge;
    }

    /** The tests' bridge: its slot and publication, 1 s heartbeats, one replica, two partitions, a look every 500 ms. */
    static BridgeConfig config(Database db, String bootstrap, String slot) {
        return BridgeConfig.of(db, bootstrap).withSlot(slot)
                .withPublication("p_" + slot)
                .withHeartbeat(Duration.ofSeconds(1)).withReplication((short) 1)
                .withChangesPartitions(2)
                .withWatchInterval(Duration.ofMillis(500));
    }

    void sql(String... statements) {
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            for (String st : statements) {
                s.execute(st);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A fixture with the tests' usual source: a table {@code items (id bigint PRIMARY KEY, a text)}
     * and the in-place migration {@code name} on it ({@link #migration}).
     */
    static BridgeFixture withItems(PostgresServer pg, KafkaBroker kafka, String prefix, String name, String transform) {
        BridgeFixture f = new BridgeFixture(pg, kafka, prefix);
        f.itemsMigration(name, transform);
        return f;
    }

    /** The table {@code items (id bigint PRIMARY KEY, a text)} and the in-place migration {@code name} on it. */
    void itemsMigration(String name, String transform) {
        tableMigration(name, "items", "a text", transform);
    }

    /**
     * A table {@code table (id bigint PRIMARY KEY, <columns>)} and the in-place migration
     * {@code name} on it ({@link #migration}).
     */
    void tableMigration(String name, String table, String columns, String transform) {
        sql("CREATE TABLE " + table + " (id bigint PRIMARY KEY, " + columns + ")");
        migration(name, table, List.of("id"), transform);
    }

    /** Registers a migration on {@code table} and moves it to expanded (so the bridge captures it). */
    void migration(String name, String table, List<String> key, String transform) {
        String keys = key.stream().map(k -> "\"" + k + "\"").reduce((a, b) -> a + "," + b).orElse("");
        String spec = "{\"name\":\"" + name + "\",\"source\":{\"schema\":\"public\",\"table\":\"" + table
                + "\",\"key\":[" + keys + "]},\"mode\":\"in-place\",\"target\":{\"columns\":[{\"name\":\"x\","
                + "\"type\":\"text\",\"transform\":\"" + transform + "\"}]}}";
        catalog.create(name, spec, name + ".yaml", "test");
        catalog.transition(name, Phase.PLANNED, Phase.EXPANDED, "test", "test");
        Topics.ensure(kafka.bootstrapServers(), Map.of(Topics.changes(name), 2), (short) 1);
    }

    /** Registers a table-mode migration {@code table} → {@code target} with a write switch and moves it to expanded. */
    void tableMigrationWithWriteSwitch(String name, String table, String target) {
        String spec = "{\"name\":\"" + name + "\",\"source\":{\"schema\":\"public\",\"table\":\"" + table
                + "\",\"key\":[\"id\"]},\"mode\":\"table\",\"target\":{\"table\":\"" + target + "\",\"columns\":"
                + "[{\"name\":\"x\",\"type\":\"text\",\"transform\":\"upper(a)\"}]},\"writes\":{\"switch\":true,"
                + "\"reverse\":{\"a\":\"lower(x)\"}}}";
        catalog.create(name, spec, name + ".yaml", "test");
        catalog.transition(name, Phase.PLANNED, Phase.EXPANDED, "test", "test");
        Topics.ensure(kafka.bootstrapServers(), Map.of(Topics.changes(name), 2), (short) 1);
    }

    /** The tables in the bridge's publication, as {@code schema.table}. */
    List<String> publishedTables() {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect("test"); java.sql.PreparedStatement ps = c.prepareStatement(
                "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = ?")) {
            ps.setString(1, "p_" + slot);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** Every non-heartbeat event on the migration's topic so far (waits until {@code quiet} passes without new ones). */
    List<ChangeEvent> events(String migration, Duration quiet) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<ChangeEvent> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(Topics.changes(migration)));
            // The quiet window counts from when the group has handed this consumer its partitions: a
            // join slower than the window (a loaded machine) must not read as "no events".
            long joinBy = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (consumer.assignment().isEmpty() && System.nanoTime() < joinBy) {
                collect(consumer.poll(Duration.ofMillis(200)), out);
            }
            long lastNew = System.nanoTime();
            while (System.nanoTime() - lastNew < quiet.toNanos()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    ChangeEvent e = ChangeCodec.decode(r.value());
                    if (!e.heartbeat()) {
                        out.add(e);
                        lastNew = System.nanoTime();
                    }
                }
            }
        }
        return out;
    }

    private static void collect(Iterable<ConsumerRecord<byte[], byte[]>> records, List<ChangeEvent> out) {
        for (ConsumerRecord<byte[], byte[]> r : records) {
            ChangeEvent e = ChangeCodec.decode(r.value());
            if (!e.heartbeat()) {
                out.add(e);
            }
        }
    }
}
