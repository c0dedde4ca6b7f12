package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.catalog.AuditEntry;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FlagStore;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.Coordinator;
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
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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
 * through the coordinator's registration ({@code Migrator.register}, what {@code demo} and the
 * scenarios use), unauthorized calls to the coordinator's HTTP API, and poison records on the
 * migration's changes topic. Each must be refused or stopped with a message naming the problem,
 * and leave the running migration, its tables and the catalog as they were.
 */
final class BadInput {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN = "admin-token-crash-matrix-0123";
    private static final String READ = "read-token-crash-matrix-45678";

    /** A hostile spec, made from the running one by one replacement, and what its refusal must name. */
    record Hostile(String what, String replace, String with, ErrorCode code, List<String> named) {
    }

    /** Everything bad input could change: compared before and after. */
    record Snapshot(Map<String, Phase> phases, String settings, String flags, long lastAuditId, String columns,
                    Set<String> topics) {
    }

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
            ShapeshiftException refused = catchThrowableOfType(ShapeshiftException.class,
                    () -> run.migrator.register(new SpecReader().read(origin, hostile), origin, hostile));
            assertThat(refused).as("%s is refused", h.what()).isNotNull();
            assertThat(refused.code()).as("%s: %s", h.what(), refused.getMessage()).isEqualTo(h.code());
            assertThat(refused.getMessage()).as(h.what()).contains(origin);
            for (String n : h.named()) {
                assertThat(refused.getMessage()).as(h.what()).contains(n);
            }
            assertThat(run.migrator.catalog().find(name)).as("%s registered nothing", h.what()).isEmpty();
            System.out.printf("REFUSED %s: %s%n", h.what(), refused.getMessage().replace('\n', ' '));
            notes.add(h.what());
        }
        return notes;
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
     * Starts the coordinator's API on a free port and asserts that calls without a valid token get
     * 401 and changes with the read token get 403; a read with the read token (200, the live
     * phase) shows the API serves this migration. Returns a note.
     */
    static String refuseUnauthorizedCalls(ScenarioRunner run) throws IOException, InterruptedException {
        String m = "/api/migrations/" + run.spec.name();
        try (Coordinator api = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, run.db, ADMIN, READ,
                Duration.ofSeconds(1)), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            HttpClient http = HttpClient.newHttpClient();
            int port = api.port();
            JsonNode status = call(http, port, "GET", m, READ, null, 200);
            assertThat(status.get("phase").asText()).isEqualTo(run.migrator.catalog().get(run.spec.name()).phase().label());
            call(http, port, "GET", m, null, null, 401);
            call(http, port, "POST", m + "/rollback", null, "{\"reason\":\"no token\"}", 401);
            call(http, port, "POST", m + "/rollback", "not-the-admin-token-at-all", "{\"reason\":\"bad token\"}", 401);
            call(http, port, "POST", m + "/transition", READ, "{\"to\":\"backfilled\",\"reason\":\"read token\"}", 403);
            call(http, port, "POST", m + "/rollback", READ, "{\"reason\":\"read token\"}", 403);
            call(http, port, "PUT", m + "/settings", READ, "{\"paused\":true,\"reason\":\"read token\"}", 403);
            call(http, port, "PUT", "/api/flags/" + run.spec.name() + "-reads", READ,
                    "{\"value\":true,\"reason\":\"read token\"}", 403);
            call(http, port, "PUT", m + "/settings", "", "{\"maxRowsPerSecond\":1,\"reason\":\"empty token\"}", 401);
        }
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
        Catalog catalog = run.migrator.catalog();
        Map<String, Phase> phases = new TreeMap<>();
        for (MigrationRecord r : catalog.list()) {
            phases.put(r.name(), r.phase());
        }
        String name = run.spec.name();
        String settings = catalog.setting(name, StatusReader.PAUSED) + "/" + catalog.setting(name, StatusReader.MAX_ROWS_PER_SECOND)
                + "/" + catalog.setting(name, "sync-skip");
        String flags = new FlagStore(catalog).list().toString();
        List<AuditEntry> audit = catalog.auditLog(null, 0, 10_000);
        long lastAudit = audit.isEmpty() ? 0 : audit.get(audit.size() - 1).id();
        String columns = text(run, "SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ', ' "
                + "ORDER BY table_name, ordinal_position) FROM information_schema.columns WHERE table_schema = 'public'");
        Set<String> topics;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, run.kafka.bootstrapServers()))) {
            topics = new TreeSet<>(admin.listTopics().names().get(30, TimeUnit.SECONDS));
        }
        topics.removeIf(t -> !t.startsWith("shapeshift." + name));
        return new Snapshot(phases, settings, flags, lastAudit, columns, topics);
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
     * record (catalog message with its position, the reason and the skip command; error in its
     * log); the operator skips it ({@link SyncSkip}, what {@code shapeshift sync skip} does); the
     * next one stops it again. Returns the time of the last skip (for the recovery measurement)
     * and the notes.
     */
    static Map.Entry<Long, String> poisonAndSkip(ScenarioRunner run, Duration atMost) throws Exception {
        String name = run.spec.name();
        Catalog catalog = run.migrator.catalog();
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
                String message = await().atMost(atMost).pollInterval(Duration.ofMillis(200))
                        .until(() -> catalog.get(name).message(), msg -> msg != null && msg.contains(at));
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
        String resumed = "sync resumed after skipping record " + position;
        await().atMost(atMost).pollInterval(Duration.ofMillis(200))
                .until(() -> catalog.get(name).message(), msg -> msg != null && msg.contains(resumed));
        List<String> audited = catalog.auditLog(name, 0, 10_000).stream().map(AuditEntry::action).toList();
        assertThat(audited.stream().filter(a -> a.startsWith("sync skipped record 0:"))).as("one audited skip per record")
                .hasSize(poisonRecords(name).size());
        return Map.entry(lastSkip, String.join("; ", notes) + "; each skipped by the operator (audited)");
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
