package dev.shapeshift.scenarios;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.catalog.SyncStreamStore;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.drive.DriveConfig;
import dev.shapeshift.coordinator.register.Registrar;
import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.examples.translation.TranslationServiceMain;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecReader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The menu story's sink on the real stack: {@code menu_items} seeded like the demo's, the
 * translation service as a child JVM with its own database, a sink-mode migration registered as
 * {@code shapeshift start} does and driven by a {@link Coordinator} with its driver on, the bridge
 * and two workers as child JVMs (they find the translation sink plugin on the class path), and an
 * application renaming, adding and deleting menu items meanwhile. The check reads the menu rows'
 * labels itself and compares each with what the service holds for that row (its ref), and the
 * service's German text of each key with a translation written here by hand.
 */
final class MenuRun implements AutoCloseable {

    static final int ROWS = 3000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    final Database db;
    final String name;
    final Catalog catalog;
    final ChunkStore chunks;
    final Stack stack;
    final int servicePort;
    private final PostgresServer pg;
    private final KafkaBroker kafka;
    private final String serviceDb;
    private final String specYaml;
    private Coordinator coordinator;
    private Thread app;
    private volatile boolean appStop;
    final Set<Long> deleted = ConcurrentHashMap.newKeySet();
    final AtomicLong appWrites = new AtomicLong();
    final AtomicLong appFailures = new AtomicLong();

    /** In front of the service when the run has slow answers: the workers' sink calls through it. */
    final dev.shapeshift.embedded.FaultProxy proxy;

    /**
     * @param slow          whether the workers' sink calls go through a {@link dev.shapeshift.embedded.FaultProxy} delaying its replies (slow answers)
     * @param rowsPerSecond the sink's maxRowsPerSecond per worker, so a fault lands mid-backfill
     */
    MenuRun(PostgresServer pg, KafkaBroker kafka, String label, boolean slow, int rowsPerSecond) throws IOException {
        this.pg = pg;
        this.kafka = kafka;
        this.name = "menu-" + label + "-" + Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
        this.db = new Database(pg.jdbcUrl(pg.createDatabase("menu_" + label.replace('-', '_'))), pg.user(), pg.password());
        this.serviceDb = pg.createDatabase("translations_" + label.replace('-', '_'));
        this.servicePort = freePort();
        this.proxy = slow ? new dev.shapeshift.embedded.FaultProxy("127.0.0.1", servicePort) : null;
        this.catalog = new Catalog(db, "scenario");
        this.chunks = new ChunkStore(catalog);
        this.stack = new Stack(db, kafka.bootstrapServers(), name.replace('-', '_'));
        this.specYaml = """
                name: %s
                source:
                  table: menu_items
                mode: sink
                target:
                  sink:
                    name: translation-service
                    settings:
                      url: http://127.0.0.1:%d
                      timeoutMs: "1000"
                      maxAttempts: "3"
                      maxRowsPerSecond: "%d"
                  columns:
                    - name: translate_key
                      transform: lower(regexp_replace(label, '[^a-zA-Z0-9]+', '_', 'g'))
                    - name: label
                      transform: label
                backfill:
                  chunkRows: 500
                  batchRows: 100
                reconcile:
                  interval: 2s
                switch:
                  approval: auto
                  cleanFor: 2s
                contract:
                  approval: auto
                  quietPeriod: 2s
                """.formatted(name, proxy == null ? servicePort : proxy.port(), rowsPerSecond);
    }

    /** Schema, the demo's labels, the service, registration, the coordinator, bridge and workers, up to backfilling; the application writes from syncing on. */
    void startToBackfilling() throws Exception {
        sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", // the contract gate's access evidence
                "CREATE TABLE menu_items (id bigint PRIMARY KEY, label text NOT NULL, price numeric(8,2) NOT NULL)",
                "INSERT INTO menu_items (id, label, price) SELECT g * 3, 'Dish no. ' || g || ' (' || "
                        + "(ARRAY['Spicy','Sweet','Sour','Vegan'])[1 + g % 4] || ')', (g % 5000) / 100.0 "
                        + "FROM generate_series(1, " + ROWS + ") g",
                "ANALYZE menu_items");
        CatalogSchema.migrate(db);
        startService();
        MigrationSpec spec = new SpecReader().read("menu/spec.yaml", specYaml);
        Registration r = new Registrar(db, "scenario").register("menu/spec.yaml", spec, specYaml);
        if (r.outcome() != Registration.Outcome.CREATED) {
            throw new AssertionError("registration " + r.outcome() + ": " + r.message());
        }
        coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, BadInput.ADMIN, BadInput.READ,
                        Duration.ofSeconds(1)).withDrive(DriveConfig.on(kafka.bootstrapServers(), Stack.PARTITIONS)
                        .withPublication(stack.publication)
                        .withTick(ScenarioRunner.DRIVER_TICK)),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), new AccessGate(new AccessWatch(db)));
        stack.bridge("bridge1");
        awaitPhase(Phase.EXPANDED, Duration.ofSeconds(180));
        stack.worker("w1", name);
        stack.worker("w2", name);
        awaitPhase(Phase.SYNCING, Duration.ofSeconds(180));
        startApplication();
        awaitPhase(Phase.BACKFILLING, Duration.ofSeconds(120));
    }

    /** The service as its own process on its own database, on the run's fixed port (a restart keeps it). */
    void startService() throws IOException {
        stack.start("translate", TranslationServiceMain.class.getName(), "--jdbc-url", pg.jdbcUrl(serviceDb), "--user",
                pg.user(), "--password", pg.password(), "--port", Integer.toString(servicePort));
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (!stack.process("translate").isAlive()) {
                throw new AssertionError("the translation service exited: " + Files.readString(stack.logs().resolve("translate.log")));
            }
            try {
                return get("/health").path("status").asText().equals("ok");
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** Renames (70%), new items (20%) and deletes (10%) at about 50 per second on the application's own connection. */
    private void startApplication() {
        app = new Thread(() -> {
            Random r = new Random(1616);
            long nextId = 3L * ROWS + 1;
            try (Connection c = db.connect("menu-app")) {
                while (!appStop) {
                    long id = 3 * (1 + r.nextInt(ROWS));
                    int op = r.nextInt(100);
                    try (PreparedStatement ps = c.prepareStatement(op < 70 ? "UPDATE menu_items SET label = ? WHERE id = ?"
                            : op < 90 ? "INSERT INTO menu_items (label, id, price) VALUES (?, ?, 9.5)"
                            : "DELETE FROM menu_items WHERE id = ?")) {
                        if (op < 70) {
                            ps.setString(1, "Renamed dish " + r.nextInt(1000));
                            ps.setLong(2, id);
                        } else if (op < 90) {
                            long n = nextId++;
                            ps.setString(1, "New dish " + n);
                            ps.setLong(2, n);
                        } else {
                            ps.setLong(1, id);
                        }
                        ps.executeUpdate();
                        appWrites.incrementAndGet();
                        if (op >= 90) {
                            deleted.add(id);
                        }
                    } catch (SQLException e) {
                        appFailures.incrementAndGet();
                    }
                    Thread.sleep(20);
                }
            } catch (SQLException | InterruptedException e) {
                appFailures.incrementAndGet();
            }
        }, "menu-app");
        app.setDaemon(true);
        app.start();
    }

    void stopApplication() throws InterruptedException {
        appStop = true;
        app.join(10_000);
    }

    void awaitPhase(Phase phase, Duration atMost) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> catalog.get(name).phase(),
                    p -> p != Phase.ROLLED_BACK && p.compareTo(phase) >= 0);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            MigrationRecord m = catalog.get(name);
            throw new AssertionError("menu run: not " + phase.label() + " within " + atMost.toSeconds() + "s; phase "
                    + m.phase().label() + ", message: " + m.message() + "; logs " + stack.logs().toAbsolutePath(), e);
        }
    }

    List<SyncStream> syncStreams() {
        return new SyncStreamStore(catalog).list(name);
    }

    /** What the check found; {@code skipped}: ids whose change the operator skipped (never in the service). */
    record Check(int rows, int missing, int wrongKey, int wrongText, int zombies, int untranslated, List<String> examples) {
        boolean clean() {
            return missing == 0 && wrongKey == 0 && wrongText == 0 && zombies == 0;
        }
    }

    /**
     * The independent check: every menu row's label read here, the key slugified here, compared with
     * the service's binding of that row (key and source-locale text); every id the application
     * deleted is absent or a tombstone there; {@code untranslated} counts live keys whose German
     * text is missing or differs from the translation written here by hand.
     */
    Check check(Set<Long> skipped) throws Exception {
        Map<Long, String> labels = new HashMap<>();
        try (Connection c = db.connect("check"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, label FROM menu_items")) {
            while (rs.next()) {
                labels.put(rs.getLong(1), rs.getString(2));
            }
        }
        List<Long> ids = new ArrayList<>(labels.keySet());
        ids.addAll(deleted);
        ids.removeAll(skipped);
        int missing = 0;
        int wrongKey = 0;
        int wrongText = 0;
        int zombies = 0;
        List<String> examples = new ArrayList<>();
        Map<String, String> liveKeys = new HashMap<>();
        for (int from = 0; from < ids.size(); from += 500) {
            List<Long> page = ids.subList(from, Math.min(ids.size(), from + 500));
            JsonNode refs = get("/refs?ids=" + enc(String.join(",", page.stream().map(String::valueOf).toList()))).path("refs");
            for (Long id : page) {
                JsonNode b = refs.path(Long.toString(id));
                String label = labels.get(id);
                boolean held = !b.isMissingNode() && !b.path("deleted").asBoolean();
                if (label == null) {
                    if (held) {
                        zombies++;
                        example(examples, "zombie " + id + " " + b);
                    }
                } else if (!held) {
                    missing++;
                    example(examples, "missing " + id);
                } else if (!slug(label).equals(b.path("key").asText())) {
                    wrongKey++;
                    example(examples, "key of " + id + " " + b.path("key").asText() + " for label '" + label + "'");
                } else if (!label.equals(b.path("text").asText())) {
                    wrongText++;
                    example(examples, "text of " + id + " '" + b.path("text").asText() + "' for label '" + label + "'");
                } else {
                    liveKeys.put(slug(label), label);
                }
            }
        }
        int untranslated = 0;
        List<String> keys = new ArrayList<>(liveKeys.keySet());
        for (int from = 0; from < keys.size(); from += 500) {
            List<String> page = keys.subList(from, Math.min(keys.size(), from + 500));
            JsonNode held = get("/keys?locales=de&ids=" + enc(String.join(",", page))).path("keys");
            for (String k : page) {
                if (!german(liveKeys.get(k)).equals(held.path(k).path("de").path("text").asText())) {
                    untranslated++;
                }
            }
        }
        return new Check(labels.size(), missing, wrongKey, wrongText, zombies, untranslated, examples);
    }

    private static void example(List<String> examples, String e) {
        if (examples.size() < 5) {
            examples.add(e);
        }
    }

    /** The spec's transform, written again by hand: runs of non-alphanumerics become one '_', lower case. */
    static String slug(String label) {
        StringBuilder b = new StringBuilder();
        boolean gap = false;
        for (char ch : label.toCharArray()) {
            boolean alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
            if (alnum) {
                b.append(Character.toLowerCase(ch));
                gap = false;
            } else if (!gap) {
                b.append('_');
                gap = true;
            }
        }
        return b.toString();
    }

    /** The German of this run's labels, by hand: the three shapes the seed and the application write. */
    static String german(String label) {
        String[] taste = {"Spicy", "Scharf", "Sweet", "Süß", "Sour", "Sauer", "Vegan", "Vegan"};
        if (label.startsWith("Dish no. ")) {
            String out = "Gericht Nr. " + label.substring("Dish no. ".length());
            for (int i = 0; i < taste.length; i += 2) {
                out = out.replace("(" + taste[i] + ")", "(" + taste[i + 1] + ")");
            }
            return out;
        }
        if (label.startsWith("Renamed dish ")) {
            return "Renamed Gericht " + label.substring("Renamed dish ".length());
        }
        if (label.startsWith("New dish ")) {
            return "Neues Gericht " + label.substring("New dish ".length());
        }
        return label;
    }

    JsonNode get(String pathAndQuery) throws IOException {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + servicePort
                    + pathAndQuery)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("GET " + pathAndQuery + ": HTTP " + r.statusCode() + " " + r.body());
            }
            return JSON.readTree(r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    void sql(String... statements) throws SQLException {
        try (Connection c = db.connect("setup"); Statement s = c.createStatement()) {
            for (String q : statements) {
                s.execute(q);
            }
        }
    }

    /** Stops the coordinator, the bridge and the workers; the service stays up (it is the other team's). */
    void stopShapeshift() throws InterruptedException {
        if (coordinator != null) {
            coordinator.close();
            coordinator = null;
        }
        for (String role : List.of("bridge1", "w1", "w2")) {
            if (stack.process(role).isAlive()) {
                stack.kill(role);
            }
        }
    }

    /** Stops the coordinator and every child JVM. */
    void stopRoles() {
        if (coordinator != null) {
            coordinator.close();
            coordinator = null;
        }
        stack.close();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    String describe(Check c) {
        return c + " phase=" + catalog.get(name).phase().label() + " message=" + catalog.get(name).message()
                + " chunks=" + chunks.totals(name) + " logs=" + stack.logs().toAbsolutePath();
    }

    @Override
    public void close() throws Exception {
        appStop = true;
        stopRoles();
        if (proxy != null) {
            proxy.close();
        }
    }
}
