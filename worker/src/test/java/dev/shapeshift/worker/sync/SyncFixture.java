package dev.shapeshift.worker.sync;

import static org.awaitility.Awaitility.await;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.BridgeState;
import dev.shapeshift.bridge.CdcBridge;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.ChildJvm;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.ModelDiff;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.fixtures.KeyKind;
import dev.shapeshift.fixtures.Queries;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.SinkTarget;
import dev.shapeshift.spec.Source;
import dev.shapeshift.spec.SpecBuilder;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.Target;
import dev.shapeshift.spec.TargetColumn;
import dev.shapeshift.worker.Worker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;

/**
 * One fresh source database with the catalog, a unique slot and publication, and helpers to run
 * the real pieces: the Debezium bridge (in this JVM or as a child JVM), workers (in this JVM or as
 * child JVMs). Everything started here is stopped by {@link #close()}.
 *
 * <p>Every source table is {@code (<key>, seq integer, a integer, b text, big text)}; {@code seq}
 * never changes, so statements pick rows by it whatever the key. {@link #check} is the independent
 * model: it reads the source rows and computes transform(source) in Java.
 */
final class SyncFixture implements AutoCloseable {

    /** The new shape and its independent Java model. */
    enum Shape {
        /** doubled = a * 2; label = upper(b), NULL when a % 5 = 0; big_len = length(big) (reads the TOASTed column). */
        STANDARD(List.of(new TargetColumn("doubled", "integer", "a * 2"),
                new TargetColumn("label", "text", "CASE WHEN a % 5 = 0 THEN NULL ELSE upper(b) END"),
                new TargetColumn("big_len", "integer", "length(big)")),
                r -> java.util.Arrays.asList(r.a == null ? null : r.a * 2,
                        r.a == null || r.a % 5 == 0 || r.b == null ? null : r.b.toUpperCase(Locale.ROOT),
                        r.big == null ? null : r.big.length())),
        /** ratio = 100 / a: raises division_by_zero for a = 0. */
        RATIO(List.of(new TargetColumn("ratio", "integer", "100 / a")),
                r -> java.util.Collections.singletonList(r.a == null ? null : 100 / r.a));

        final List<TargetColumn> columns;
        final Function<SourceRow, List<Object>> model;

        Shape(List<TargetColumn> columns, Function<SourceRow, List<Object>> model) {
            this.columns = columns;
            this.model = model;
        }
    }

    record SourceRow(Integer a, String b, String big) {
    }

    /** One migration of this fixture. */
    record Migration(String name, KeyKind kind, Mode mode, Shape shape, String source, String target) {
    }

    record Check(int sourceRows, int missing, int extra, int stale, List<String> examples) {
        boolean clean() {
            return missing == 0 && extra == 0 && stale == 0;
        }
    }

    static final int PARTITIONS = 3;

    final PostgresServer pg;
    final KafkaBroker kafka;
    final Database db;
    final Catalog catalog;
    final String slot;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    SyncFixture(PostgresServer pg, KafkaBroker kafka, String prefix) {
        this.pg = pg;
        this.kafka = kafka;
        this.db = new Database(pg.jdbcUrl(pg.createDatabase(prefix)), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        this.catalog = new Catalog(db, "test");
        this.slot = "s_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }

    String bootstrap() {
        return kafka.bootstrapServers();
    }

    /** {@link #migration(String, KeyKind, Mode, Shape)} of the common case: a bigint key, a new table, the standard shape. */
    Migration migration(String name) {
        return migration(name, KeyKind.BIGINT, Mode.TABLE, Shape.STANDARD);
    }

    /** Source table, expand DDL, catalog row in phase expanded, change topic. */
    Migration migration(String name, KeyKind kind, Mode mode, Shape shape) {
        String source = "src_" + name;
        String target = mode == Mode.TABLE ? "tgt_" + name : source;
        sql("CREATE TABLE " + source + " (" + kind.ddl + ", seq integer NOT NULL, a integer, b text, big text)",
                "ALTER TABLE " + source + " ALTER COLUMN big SET STORAGE EXTERNAL");
        String newColumns = String.join(", ", shape.columns.stream().map(c -> c.name() + " " + c.type()).toList());
        if (mode == Mode.TABLE) {
            sql("CREATE TABLE " + target + " (" + kind.targetKeyDdl + ", " + newColumns + ", PRIMARY KEY ("
                    + String.join(", ", kind.names) + "))");
        } else {
            sql("ALTER TABLE " + source + " " + String.join(", ",
                    shape.columns.stream().map(c -> "ADD COLUMN " + c.name() + " " + c.type()).toList()));
        }
        MigrationSpec spec = SpecBuilder.spec(name).source("public", source, kind.names).mode(mode)
                .target("public", target, shape.columns).build();
        catalog.create(name, SpecJson.write(spec), name + ".yaml", "test");
        catalog.transition(name, Phase.PLANNED, Phase.EXPANDED, "test", "expand DDL applied by the test");
        Topics.ensure(bootstrap(), Map.of(Topics.changes(name), PARTITIONS), (short) 1);
        return new Migration(name, kind, mode, shape, source, target);
    }

    /** Sink mode: the source table, a catalog row in phase expanded (the expand of a sink is empty), the change topic. */
    Migration sinkMigration(String name, KeyKind kind, Shape shape, Map<String, String> settings) {
        String source = "src_" + name;
        sql("CREATE TABLE " + source + " (" + kind.ddl + ", seq integer NOT NULL, a integer, b text, big text)",
                "ALTER TABLE " + source + " ALTER COLUMN big SET STORAGE EXTERNAL");
        MigrationSpec spec = SpecBuilder.spec(name).source("public", source, kind.names).mode(Mode.SINK)
                .target(new Target(null, null, shape.columns, null, null, new SinkTarget("memory", settings))).build();
        catalog.create(name, SpecJson.write(spec), name + ".yaml", "test");
        catalog.transition(name, Phase.PLANNED, Phase.EXPANDED, "test", "sink mode: nothing to expand");
        Topics.ensure(bootstrap(), Map.of(Topics.changes(name), PARTITIONS), (short) 1);
        return new Migration(name, kind, Mode.SINK, shape, source, null);
    }

    /**
     * Sink mode: the independent Java model of transform(source), as text, against the live rows the
     * memory sink holds (tombstones are absences).
     */
    Check checkSink(Migration m, Map<dev.shapeshift.sink.SinkKey, dev.shapeshift.sink.SinkRow> live) {
        String keys = String.join(", ", m.kind().asText);
        int w = m.kind().names.size();
        Map<List<String>, List<String>> expected = new HashMap<>();
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + keys + ", a, b, big FROM " + m.source())) {
            while (rs.next()) {
                List<String> k = key(rs, w);
                SourceRow row = new SourceRow((Integer) rs.getObject(w + 1), rs.getString(w + 2), rs.getString(w + 3));
                expected.put(k, m.shape().model.apply(row).stream().map(v -> v == null ? null : v.toString()).toList());
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        Map<List<String>, List<String>> actual = new HashMap<>();
        live.forEach((k, row) -> actual.put(k.values(), new ArrayList<>(row.values().values())));
        ModelDiff d = ModelDiff.compare(expected, actual);
        return new Check(expected.size(), d.missing(), d.extra(), d.stale(), d.examples());
    }

    BridgeConfig bridgeConfig() {
        return bridgeConfig(db, bootstrap(), slot);
    }

    /** The tests' bridge: its slot and publication, 1 s heartbeats, one replica, a look every 500 ms. */
    static BridgeConfig bridgeConfig(Database db, String bootstrap, String slot) {
        return BridgeConfig.of(db, bootstrap).withSlot(slot)
                .withPublication("p_" + slot)
                .withHeartbeat(Duration.ofSeconds(1)).withReplication((short) 1)
                .withChangesPartitions(PARTITIONS)
                .withWatchInterval(Duration.ofMillis(500));
    }

    /**
     * The statement that inserts source rows 1..{@code rows} of a bigint-keyed standard migration:
     * {@code id = seq = a}, {@code b = 'b' || id}.
     */
    static String insertRows(Migration m, int rows) {
        return "INSERT INTO " + m.source() + " (id, seq, a, b) SELECT g, g, g, 'b' || g FROM generate_series(1, " + rows + ") g";
    }

    /** The bridge streaming, then {@code m} converged on one worker over the rows {@code insert} writes ({@link SyncSteps#convergedOnOneWorker}). */
    Worker bridgeAndConvergedWorker(Migration m, String insert) throws InterruptedException {
        bridge();
        return SyncSteps.convergedOnOneWorker(this, m, insert);
    }

    /** The bridge in this JVM, streaming. */
    CdcBridge bridge() throws InterruptedException {
        CdcBridge bridge = new CdcBridge(bridgeConfig(), new SimpleMeterRegistry());
        closeables.add(bridge);
        bridge.start();
        if (!bridge.awaitState(BridgeState.STREAMING, Duration.ofSeconds(120))) {
            throw new IllegalStateException("bridge not streaming: " + bridge.state() + " " + bridge.failure());
        }
        return bridge;
    }

    /** The bridge as a child JVM ({@link SyncChild}), configured as {@link #bridgeConfig()}. */
    Process bridgeChild(String logName) throws IOException {
        return child(logName, "bridge", db.jdbcUrl(), db.user(), db.password(), bootstrap(), slot);
    }

    /** Waits until the bridge recorded the slot's start LSN for the migration, then moves it to syncing. */
    void awaitCaptured(Migration m) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> catalog.get(m.name()).startLsn() != null);
        catalog.transition(m.name(), Phase.EXPANDED, Phase.SYNCING, "test", "slot recorded");
    }

    /** A sync-only worker in this JVM for the named migrations (all active ones if none). */
    Worker worker(String id, io.micrometer.core.instrument.MeterRegistry registry, String... migrations) {
        Worker w = new Worker(db, bootstrap(), Worker.Config.of(id, List.of(migrations))
                .withBackfill(false)
                .withSessionTimeout(Duration.ofSeconds(6))
                .withWatchInterval(Duration.ofSeconds(2)), registry);
        closeables.add(w);
        w.start();
        return w;
    }

    /** A sync-only worker as a child JVM ({@link SyncChild}). */
    Process workerChild(String id, Migration m) throws IOException {
        return child("worker-" + id, "worker", db.jdbcUrl(), db.user(), db.password(), bootstrap(), id, m.name());
    }

    private Process child(String logName, String... args) throws IOException {
        Path log = File.createTempFile("sync-" + logName + "-", ".log").toPath();
        Process p = ChildJvm.main(SyncChild.class).options("-Xmx256m", "-XX:TieredStopAtLevel=1").args(args)
                .startLoggingTo(log);
        processes.add(p);
        System.out.printf("CHILD %s pid=%d log=%s%n", logName, p.pid(), log);
        return p;
    }

    static void signal(Process p, String signal) throws IOException, InterruptedException {
        ChildJvm.signal(p, signal);
    }

    /** Sync partitions per member of the migration's sync group, by client id. */
    Map<String, Integer> syncAssignments(Migration m) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        try (Admin admin = Admin.create(p)) {
            String group = Topics.group(m.name(), "sync");
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS)
                    .get(group);
            Map<String, Integer> out = new HashMap<>();
            for (MemberDescription member : d.members()) {
                out.merge(member.clientId(), member.assignment().topicPartitions().size(), Integer::sum);
            }
            return out;
        }
    }

    /** Runs the statements in one transaction; returns the rows they changed. */
    long tx(String... statements) {
        try (Connection c = db.connect("app")) {
            c.setAutoCommit(false);
            long n = 0;
            try (Statement s = c.createStatement()) {
                for (String st : statements) {
                    n += s.executeUpdate(st);
                }
            }
            c.commit();
            return n;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    void sql(String... statements) {
        Queries.exec(db, "app", statements);
    }

    long count(String query) {
        return Queries.count(db, "test", query);
    }

    /** Compares the target with transform(source) computed in Java from the source rows. */
    Check check(Migration m) {
        String keys = String.join(", ", m.kind().asText);
        int w = m.kind().names.size();
        List<String> cols = m.shape().columns.stream().map(TargetColumn::name).toList();
        Map<List<String>, List<Object>> expected = new HashMap<>();
        Map<List<String>, List<Object>> actual = new HashMap<>();
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT " + keys + ", a, b, big"
                    + (m.mode() == Mode.IN_PLACE ? ", " + String.join(", ", cols) : "") + " FROM " + m.source())) {
                while (rs.next()) {
                    List<String> k = key(rs, w);
                    SourceRow row = new SourceRow((Integer) rs.getObject(w + 1), rs.getString(w + 2), rs.getString(w + 3));
                    expected.put(k, m.shape().model.apply(row));
                    if (m.mode() == Mode.IN_PLACE) {
                        actual.put(k, values(rs, w + 4, cols.size()));
                    }
                }
            }
            if (m.mode() == Mode.TABLE) {
                try (ResultSet rs = s.executeQuery("SELECT " + keys + ", " + String.join(", ", cols) + " FROM " + m.target())) {
                    while (rs.next()) {
                        actual.put(key(rs, w), values(rs, w + 1, cols.size()));
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        ModelDiff d = ModelDiff.compare(expected, actual);
        return new Check(expected.size(), d.missing(), d.extra(), d.stale(), d.examples());
    }

    /** Awaits target = transform(source). */
    Check awaitConverged(Migration m, Duration atMost) {
        return await().atMost(atMost).pollInterval(Duration.ofMillis(500)).until(() -> check(m), Check::clean);
    }

    private static List<Object> values(ResultSet rs, int first, int n) throws SQLException {
        List<Object> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(rs.getObject(first + i));
        }
        return out;
    }

    private static List<String> key(ResultSet rs, int width) throws SQLException {
        List<String> v = new ArrayList<>(width);
        for (int i = 0; i < width; i++) {
            v.add(rs.getString(i + 1));
        }
        return v;
    }

    @Override
    public void close() {
        ChildJvm.killAll(processes);
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                System.out.println("closing " + closeables.get(i) + " failed: " + e);
            }
        }
    }
}
