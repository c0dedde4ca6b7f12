package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.catalog.AuditEntry;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FlagStore;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.catalog.StreamState;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.coordinator.register.Registrar;
import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.coordinator.status.StatusReader;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Validation;
import dev.shapeshift.worker.sync.SyncSkip;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The crash matrix's bad input, sent into a running migration under write load: hostile specs
 * through the path {@code shapeshift start} takes ({@link SpecReader}, then {@link Registrar}; the
 * same registrar serves {@code POST /api/migrations} and the specs directory), unauthorized calls
 * to the HTTP API of the coordinator that drives the run, and poison records on the migration's
 * changes topic. Each must be refused or stopped with a message naming the problem, and leave the
 * running migration, its tables and the catalog as they were.
 */
final class BadInput {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The tokens of the scenario's coordinator ({@link ScenarioRunner#startCoordinator}). */
    static final String ADMIN = "admin-token-crash-matrix-0123";
    static final String READ = "read-token-crash-matrix-45678";

    /** A hostile spec, made from the running one by one replacement, and what its refusal must name. */
    record Hostile(String what, String replace, String with, ErrorCode code, List<String> named) {
    }

    /**
     * Everything bad input could change: compared before and after. The coordinator's driver goes
     * on meanwhile (it may move the running migration to backfilled), so the running migration's
     * phase is left out and the audit log is compared without the driver's own entries: a phase
     * move by anyone else is an audited transition and shows there.
     */
    record Snapshot(Map<String, Phase> otherPhases, Set<String> migrations, String settings, String flags,
                    long lastAuditIdNotByDriver, String columns, Set<String> topics) {
    }

    /** The audit actor of the coordinator's driver. */
    private static final String DRIVER = "coordinator-driver";

    private BadInput() {
    }

    static List<Hostile> hostileSpecs() {
        return List.of(
                new Hostile("statement smuggled into a transform", "transform: a * 2",
                        "transform: '1); DROP TABLE src; --'", ErrorCode.SPEC_INVALID,
                        List.of("target.columns[0].transform", "';' outside quotes")),
                new Hostile("quoted identifier smuggling SQL as the source table", "  table: src\n",
                        "  table: 'src\"; DROP TABLE src; --'\n", ErrorCode.SPEC_INVALID, List.of("source.table")),
                new Hostile("a transform that reaches out of the row", "transform: a * 2",
                        "transform: '(SELECT pg_terminate_backend(pid) FROM pg_stat_activity LIMIT 1)'",
                        ErrorCode.SPEC_INVALID, List.of("target.columns[0].transform")),
                new Hostile("unknown column in a transform", "transform: a * 2", "transform: a * 2 + no_such_col",
                        ErrorCode.SPEC_INVALID, List.of("target.columns[0].transform", "no_such_col")),
                new Hostile("malformed YAML", "mode: table\n", "mode: table: [x\n", ErrorCode.SPEC_MALFORMED,
                        List.of("not valid YAML")));
    }

    /**
     * Submits every hostile spec (under its own name) and asserts each is refused with its code and
     * a message naming the origin and the problem. Returns one note per spec.
     */
    static List<String> refuseHostileSpecs(ScenarioRunner run) {
        List<String> notes = new ArrayList<>();
        int i = 0;
        for (Hostile h : hostileSpecs()) {
            String name = run.spec.name() + "-h" + (++i);
            String origin = name + ".yaml";
            String yaml = run.scenario.specYaml().replace("name: " + run.scenario.name(), "name: " + name);
            assertThat(yaml).as("base spec has the text to replace for %s", h.what()).contains(h.replace());
            String hostile = yaml.replaceFirst(Pattern.quote(h.replace()), Matcher.quoteReplacement(h.with()));
            ShapeshiftException refused = start(run, origin, hostile);
            assertThat(refused).as("%s is refused", h.what()).isNotNull();
            assertThat(refused.code()).as("%s: %s", h.what(), refused.getMessage()).isEqualTo(h.code());
            assertThat(refused.getMessage()).as(h.what()).contains(origin);
            for (String n : h.named()) {
                assertThat(refused.getMessage()).as(h.what()).contains(n);
            }
            assertThat(run.catalog.find(name)).as("%s registered nothing", h.what()).isEmpty();
            System.out.printf("REFUSED %s: %s%n", h.what(), refused.getMessage().replace('\n', ' '));
            notes.add(h.what());
        }
        return notes;
    }

    /**
     * What {@code shapeshift start FILE} does with a spec's text ({@code StartCommand}): YAML that
     * does not parse is refused by {@link SpecReader} ({@link ErrorCode#SPEC_MALFORMED}), a parsed
     * spec is handed to the {@link Registrar}. Returns the refusal as the error code and message the
     * command prints, or null when the spec was accepted.
     */
    private static ShapeshiftException start(ScenarioRunner run, String origin, String yaml) {
        MigrationSpec spec;
        try {
            spec = new SpecReader().read(origin, yaml);
        } catch (ShapeshiftException e) {
            return e;
        }
        Registration r = new Registrar(run.db, "scenario").register(origin, spec, yaml);
        return r.accepted() ? null : new ShapeshiftException(r.outcome().error(), r.message());
    }

    /**
     * A new target column's name is not checked against the catalog (it does not exist yet) but
     * quoted: a name that closes the quote and smuggles a statement is a legal, odd identifier.
     * Validates such a spec (into a fresh target table; not registered) and runs its expand DDL in a
     * transaction that is rolled back: it must make exactly one column of that name, and the
     * source table must still be there. Returns a note.
     */
    static String quoteTargetColumn(ScenarioRunner run) throws SQLException {
        String column = "doubled\" integer); DROP TABLE src; --";
        String table = "src_v2_hostile";
        String yaml = run.scenario.specYaml().replace("- name: doubled", "- name: '" + column + "'")
                .replace("table: src_v2", "table: " + table);
        assertThat(yaml).contains(column).contains(table);
        MigrationSpec spec = new SpecReader().read("quoted-column.yaml", yaml);
        try (Connection c = run.db.connect("checker")) {
            Validation v = SpecValidator.check(spec, c);
            assertThat(v.problems()).as("an odd but quoted identifier is legal").isEmpty();
            String quoted = "\"" + column.replace("\"", "\"\"") + "\"";
            assertThat(String.join("\n", v.expand().statements())).contains(quoted);
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                for (String ddl : v.expand().statements()) {
                    s.execute(ddl);
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE column_name = ?), "
                        + "to_regclass('public.src') IS NOT NULL FROM information_schema.columns WHERE table_name = ?")) {
                    ps.setString(1, column);
                    ps.setString(2, table);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).as("the hostile name is one column").isEqualTo(1);
                        assertThat(rs.getBoolean(2)).as("src survives the expand DDL").isTrue();
                    }
                }
            } finally {
                c.rollback();
            }
        }
        return "a target column named `doubled\" integer); DROP TABLE src; --` is one quoted column (expand DDL run and "
                + "rolled back)";
    }

    /**
     * Calls the API of the coordinator that drives the run and asserts that calls without a valid
     * token get 401 and changes with the read token get 403; a read with the read token (200, the
     * live phase) shows the API serves this migration. Returns a note.
     */
    static String refuseUnauthorizedCalls(ScenarioRunner run) throws IOException, InterruptedException {
        String m = "/api/migrations/" + run.spec.name();
        HttpClient http = HttpClient.newHttpClient();
        int port = run.coordinator().port();
        JsonNode status = call(http, port, "GET", m, READ, null, 200);
        assertThat(status.get("phase").asText()).isEqualTo(run.catalog.get(run.spec.name()).phase().label());
        call(http, port, "GET", m, null, null, 401);
        call(http, port, "POST", m + "/rollback", null, "{\"reason\":\"no token\"}", 401);
        call(http, port, "POST", m + "/rollback", "not-the-admin-token-at-all", "{\"reason\":\"bad token\"}", 401);
        call(http, port, "POST", m + "/transition", READ, "{\"to\":\"backfilled\",\"reason\":\"read token\"}", 403);
        call(http, port, "POST", m + "/rollback", READ, "{\"reason\":\"read token\"}", 403);
        call(http, port, "PUT", m + "/settings", READ, "{\"paused\":true,\"reason\":\"read token\"}", 403);
        call(http, port, "PUT", "/api/flags/" + run.spec.name() + "-reads", READ,
                "{\"value\":true,\"reason\":\"read token\"}", 403);
        call(http, port, "PUT", m + "/settings", "", "{\"maxRowsPerSecond\":1,\"reason\":\"empty token\"}", 401);
        return "API: 4×401 (no/bad/empty token), 4×403 (read token on rollback/transition/settings/flag), read 200";
    }

    private static JsonNode call(HttpClient http, int port, String method, String path, String token, String body,
                                 int expected) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isEqualTo(expected);
        JsonNode json = JSON.readTree(r.body());
        if (expected == 401 || expected == 403) {
            assertThat(json.get("error").asText()).isEqualTo(expected == 401 ? "UNAUTHORIZED" : "FORBIDDEN");
            assertThat(json.get("message").asText()).isNotBlank();
            assertThat(r.body()).doesNotContain(ADMIN).doesNotContain(READ);
        }
        return json;
    }

    static Snapshot snapshot(ScenarioRunner run) throws Exception {
        Catalog catalog = run.catalog;
        String name = run.spec.name();
        Map<String, Phase> phases = new TreeMap<>();
        Set<String> migrations = new TreeSet<>();
        for (MigrationRecord r : catalog.list()) {
            migrations.add(r.name());
            if (!r.name().equals(name)) {
                phases.put(r.name(), r.phase());
            }
        }
        String settings = catalog.setting(name, StatusReader.PAUSED) + "/" + catalog.setting(name, StatusReader.MAX_ROWS_PER_SECOND)
                + "/" + catalog.setting(name, "sync-skip");
        String flags = new FlagStore(catalog).list().toString();
        long lastAudit = catalog.auditLog(null, 0, 10_000).stream().filter(a -> !DRIVER.equals(a.actor()))
                .mapToLong(AuditEntry::id).max().orElse(0);
        String columns = text(run, "SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ', ' "
                + "ORDER BY table_name, ordinal_position) FROM information_schema.columns WHERE table_schema = 'public'");
        Set<String> topics;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, run.kafka.bootstrapServers()))) {
            topics = new TreeSet<>(admin.listTopics().names().get(30, TimeUnit.SECONDS));
        }
        topics.removeIf(t -> !t.startsWith("shapeshift." + name));
        return new Snapshot(phases, migrations, settings, flags, lastAudit, columns, topics);
    }

    /** What a poison record is, and the reason the worker must give for it. */
    record Poison(String what, byte[] value, String reason) {
    }

    static List<Poison> poisonRecords(String migration) {
        String badKey = "{\"m\":\"" + migration + "\",\"k\":[\"1); DROP TABLE src; --\"],\"op\":\"u\",\"lsn\":1,\"ts\":1,\"tx\":1}";
        String wide = "{\"m\":\"" + migration + "\",\"k\":[\"1\",\"2\"],\"op\":\"u\",\"lsn\":1,\"ts\":1,\"tx\":1}";
        return List.of(
                new Poison("non-JSON bytes", new byte[] {0, (byte) 0xff, 'x', '{'}, "the value is not JSON"),
                new Poison("JSON with an unparseable key", badKey.getBytes(StandardCharsets.UTF_8),
                        "key value for column id is not a valid bigint"),
                new Poison("JSON with a key of the wrong width", wide.getBytes(StandardCharsets.UTF_8),
                        "record key has 2 values, the migration's key has 1 columns"));
    }

    /**
     * Produces the poison records one after the other into partition 0 of the changes topic while
     * the application writes. For each: the worker owning the partition stops at exactly that
     * record (its sync stream row in the catalog: {@code STOPPED_POISON} at that offset, with a
     * message naming the position, the reason and the skip command; error in its log); the
     * operator skips it ({@link SyncSkip}, what {@code shapeshift sync skip} does); the next one
     * stops it again. After the last skip the stream runs again (row {@code RUNNING}, the skip in
     * the worker's log). Returns the time of the last skip (for the recovery measurement) and the
     * notes.
     */
    static Map.Entry<Long, String> poisonAndSkip(ScenarioRunner run, Duration atMost) throws Exception {
        String name = run.spec.name();
        Catalog catalog = run.catalog;
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, run.kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        List<String> notes = new ArrayList<>();
        long lastSkip = 0;
        String position = null;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (Poison poison : poisonRecords(name)) {
                long t0 = System.nanoTime();
                RecordMetadata sent = producer.send(new ProducerRecord<>(Topics.changes(name), 0,
                        "[\"poison\"]".getBytes(StandardCharsets.UTF_8), poison.value())).get(30, TimeUnit.SECONDS);
                position = sent.partition() + ":" + sent.offset();
                String at = "partition:offset " + position;
                // The durable stream row, which the gates read: the migration's message is the
                // driver's too, and it rewrites it with what it waits for on its next tick.
                String message = await().atMost(atMost).pollInterval(Duration.ofMillis(200))
                        .until(() -> stoppedAt(run, sent.partition(), sent.offset()), Optional::isPresent).orElseThrow();
                assertThat(message).as(poison.what()).contains(at);
                long stoppedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                System.out.printf("POISON %s stopped sync: %s%n", poison.what(), message);
                assertThat(message).as(poison.what()).contains("sync stopped at an undecodable change record")
                        .contains(poison.reason()).contains("Nothing was skipped")
                        .contains("shapeshift sync skip " + name + " " + position);
                String logged = "sync stopped at poison record migration=" + name;
                String pos = "position=" + position;
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                        .until(() -> workerLogs(run).anyMatch(l -> l.contains(logged) && l.contains(pos)));
                SyncSkip.request(catalog, name, position, "crash-matrix", "poison record injected by the test: "
                        + poison.what());
                lastSkip = System.nanoTime();
                notes.add(poison.what() + " stopped in " + stoppedMs + " ms");
            }
        }
        String resumed = "sync skipped poison record on operator request migration=" + name + " position=" + position;
        await().atMost(atMost).pollInterval(Duration.ofMillis(200)).until(() -> workerLogs(run).anyMatch(l -> l.contains(resumed))
                && run.syncStreams().stream().filter(st -> st.partition() == 0).allMatch(st -> st.state() == StreamState.RUNNING));
        List<String> audited = catalog.auditLog(name, 0, 10_000).stream().map(AuditEntry::action).toList();
        assertThat(audited.stream().filter(a -> a.startsWith("sync skipped record 0:"))).as("one audited skip per record")
                .hasSize(poisonRecords(name).size());
        return Map.entry(lastSkip, String.join("; ", notes) + "; each skipped by the operator (audited)");
    }

    /** The message of the sync stream of {@code partition} if it is stopped at the record at {@code offset}. */
    private static Optional<String> stoppedAt(ScenarioRunner run, int partition, long offset) {
        return run.syncStreams().stream().filter(st -> st.partition() == partition && st.state() == StreamState.STOPPED_POISON
                && Long.valueOf(offset).equals(st.stopOffset())).map(SyncStream::message).findFirst();
    }

    private static String text(ScenarioRunner run, String sql) throws SQLException {
        try (Connection c = run.db.connect("checker"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The lines of every worker log. */
    private static Stream<String> workerLogs(ScenarioRunner run) throws IOException {
        List<String> lines = new ArrayList<>();
        for (String w : run.stack.workers()) {
            Path log = run.stack.logs().resolve(w + ".log");
            if (Files.exists(log)) {
                lines.addAll(Files.readAllLines(log, StandardCharsets.ISO_8859_1));
            }
        }
        return lines.stream();
    }
}
