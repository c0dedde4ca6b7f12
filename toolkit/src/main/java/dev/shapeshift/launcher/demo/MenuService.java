package dev.shapeshift.launcher.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FindingStore;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.contract.Contractor;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.coordinator.register.Registrar;
import dev.shapeshift.coordinator.register.Registration;
import dev.shapeshift.coordinator.status.MigrationStatus;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.examples.translation.GlossaryTranslator;
import dev.shapeshift.examples.translation.ServiceConfig;
import dev.shapeshift.examples.translation.TranslationService;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecReader;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The menu story's other half (docs/scenarios.md, "The menu demo"): the translation service
 * (examples/translation-service) in this process on its own database of the demo's PostgreSQL,
 * seeded through a second migration in sink mode ({@link #SINK_MIGRATION}, the sink plugin found
 * on the class path), the service's background job translating each key into de and fr, and a
 * reader of the menu in German: by {@code translate_key} from the service, the label as fallback
 * while a key has no German text yet (once writes are switched, the service's en text instead). Before the in-place migration drops {@code label}, the demo
 * stops the application's writes, checks every row against the service by hand, and contracts the
 * sink migration (the in-place contract's {@code other-migrations} check waits for exactly that).
 *
 * <p>Why one class of ~480 lines: the demo's menu story is told in the order it happens (seed,
 * translate, read, stop, check, contract); it is demo code, not in the runtime jar.
 */
final class MenuService implements AutoCloseable {
    static final String SINK_MIGRATION = "menu-translations";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SLUG = "lower(regexp_replace(label, '[^a-zA-Z0-9]+', '_', 'g'))";

    private final Database db;
    private final Database appDb;
    private final PrintStream out;
    private final TranslationService service;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final long started = System.nanoTime();
    private final Thread watcher;
    private final Thread reader;
    private volatile boolean closing;
    /** Until the in-place migration switches writes the fallback reads the label; then the service's en text. */
    private volatile boolean labelFallback = true;
    private volatile long fanOutDoneNanos;
    private volatile long maxLive;
    private final AtomicLong translatedReads = new AtomicLong();
    private final AtomicLong fallbackBefore = new AtomicLong();
    private final AtomicLong fallbackAfter = new AtomicLong();
    private final AtomicLong readsBefore = new AtomicLong();
    private final AtomicLong readsAfter = new AtomicLong();
    private final AtomicLong readFailures = new AtomicLong();
    private long renamed;
    private long sinkRepaired;
    private MigrationSpec sinkSpec;
    private final List<String> renamedIds = new ArrayList<>();
    private long sinkChecked = -1;
    private long sinkWrong = -1;
    private Map<String, Long> atContract = Map.of();

    private MenuService(Database db, Database appDb, PrintStream out, TranslationService service) {
        this.db = db;
        this.appDb = appDb;
        this.out = out;
        this.service = service;
        this.watcher = new Thread(this::watch, "demo-translation-watch");
        this.reader = new Thread(this::readMenu, "demo-menu-reader");
        watcher.setDaemon(true);
        reader.setDaemon(true);
    }

    /** Starts the service on a database of its own and registers the sink migration that seeds it. */
    static MenuService start(EmbeddedPostgres pg, Database db, Database appDb, PrintStream out) throws SQLException {
        String serviceDb = pg.createDatabase("translations");
        TranslationService service = TranslationService.start(ServiceConfig.of(pg.jdbcUrl(serviceDb), pg.user(),
                pg.password()), GlossaryTranslator.bundled());
        MenuService m = new MenuService(db, appDb, out, service);
        out.printf("    translation service (examples/translation-service) on http://127.0.0.1:%d, its own database "
                + "'translations'; its background job translates every en text into de and fr%n", service.port());
        String yaml = m.specYaml();
        MigrationSpec spec = new SpecReader().read(SINK_MIGRATION + ".yaml", yaml);
        m.sinkSpec = spec;
        Registration r = new Registrar(db, "cli:demo").register(SINK_MIGRATION + ".yaml", spec, yaml);
        if (!r.accepted()) {
            service.close();
            throw new ShapeshiftException(r.outcome().error(), r.message());
        }
        out.println("    second migration, sink mode: seeds each label as the en text of its key in the service\n"
                + yaml.indent(6).stripTrailing());
        m.watcher.start();
        m.reader.start();
        return m;
    }

    /** The sink migration: the same slug as the in-place one; contracted by the demo itself (below). */
    String specYaml() {
        return """
                name: %s
                source:
                  table: menu_items
                mode: sink
                target:
                  sink:
                    name: translation-service
                    settings:
                      url: http://127.0.0.1:%d
                      maxRowsPerSecond: "0"
                  columns:
                    - name: translate_key
                      transform: %s
                    - name: label
                      transform: label
                backfill:
                  chunkRows: 5000
                reconcile:
                  rangeRows: 5000
                  interval: 3s
                  recheckAfter: 2s
                switch:
                  approval: auto
                  cleanFor: 5s
                  maxLag: 5s
                contract:
                  quietPeriod: 5s
                """.formatted(SINK_MIGRATION, service.port(), SLUG);
    }

    /**
     * The unique index on translate_key waits while rows share a key (findings of the staged
     * structure). The rule, applied by the team as the application's role: in each group of rows
     * with the same key, the row with the lowest id keeps its label; every other one gets the
     * suffix {@code " #<id>"}, so its key becomes {@code <key>_<id>} (the sync recomputes it, and
     * the sink seeds the new key); the enforcer's next look builds the index.
     */
    void resolveDuplicates(MigrationStatus s) {
        List<FindingStore.Finding> dups = s.findings() == null ? List.of()
                : s.findings().stream().filter(f -> f.kind().equals("duplicate")).toList();
        if (dups.isEmpty()) {
            return;
        }
        List<Long> rename = new ArrayList<>();
        for (FindingStore.Finding f : dups) {
            List<Long> ids = new ArrayList<>();
            try {
                for (JsonNode k : JSON.readTree(f.key())) {
                    ids.add(Long.parseLong(k.get(0).asText()));
                }
            } catch (IOException | RuntimeException e) {
                out.println("    cannot read finding key " + f.key() + ": " + e.getMessage());
                continue;
            }
            ids.sort(Long::compare);
            rename.addAll(ids.subList(1, ids.size()));
        }
        rename.removeIf(id -> renamedIds.contains(Long.toString(id)));
        if (rename.isEmpty()) {
            return;
        }
        out.printf("    %d finding(s) of %s, e.g. %s %s; rule: the lowest id keeps its label, the others get \" #<id>\"%n",
                dups.size(), dups.get(0).item(), dups.get(0).key(), dups.get(0).detail());
        try (Connection c = appDb.connect("demo-fix"); PreparedStatement ps = c.prepareStatement(
                "UPDATE menu_items SET label = label || ' #' || id WHERE id = ANY (?) AND label NOT LIKE '% #' || id")) {
            ps.setArray(1, c.createArrayOf("bigint", rename.toArray()));
            int n = ps.executeUpdate();
            renamed += n;
            rename.forEach(id -> renamedIds.add(Long.toString(id)));
            out.printf("    renamed %d label(s) (ids %s); the enforcer's next look builds the index%n", n,
                    rename.size() <= 6 ? rename : rename.subList(0, 6) + "…");
        } catch (SQLException e) {
            out.println("    renaming the duplicates failed: " + e.getMessage());
        }
    }

    /**
     * Drift of the sink migration (the reconcile compares transform(source) with what the service
     * reads back) is repaired like the in-place one's, as {@code shapeshift reconcile run --repair}
     * does: e.g. two rows that shared a key until the duplicates were renamed left that key's text
     * to the newer one; the repair writes the other row's label again at a newer version.
     */
    void repairSinkDrift() {
        try {
            if (new Catalog(db, "demo").get(SINK_MIGRATION).phase().compareTo(Phase.CONTRACT_READY) >= 0) {
                return;
            }
            var r = DemoRun.repair(db, sinkSpec);
            if (r.refreshed() + r.resolved() > 0) {
                sinkRepaired += r.resolved();
                out.printf("    %s: drift repaired through the sink: %d refreshed, %d resolved, %d still different%n",
                        SINK_MIGRATION, r.refreshed(), r.resolved(), r.stillDifferent());
            }
        } catch (SQLException | RuntimeException e) {
            out.println("    " + SINK_MIGRATION + ": repair failed: " + e.getMessage());
        }
    }

    /** The other-migrations check of the in-place contract, as the gate computes it. */
    Check otherMigrations(String migration) {
        return new AccessWatch(db).otherReaders(migration);
    }

    /**
     * Application writes are paused (contract-ready of the in-place migration). Waits until the
     * service holds, for every menu row, the row's key and its label as en text (checked here by
     * hand: the key slugified in Java), then contracts the sink migration, which must come first.
     */
    void contractSinkFirst(String inPlace, Duration timeout) throws SQLException, InterruptedException {
        Check before = otherMigrations(inPlace);
        out.printf("    %-32s %-6s %s%n", "other migrations", before.passed() ? "PASS" : "FAIL", before.evidence());
        Catalog catalog = new Catalog(db, "demo");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (catalog.get(SINK_MIGRATION).phase() != Phase.CONTRACT_READY && System.nanoTime() < deadline) {
            Thread.sleep(500);
        }
        long[] check;
        do {
            check = checkAgainstService();
        } while (check[1] != 0 && System.nanoTime() < deadline && sleep());
        sinkChecked = check[0];
        sinkWrong = check[1];
        atContract = stats();
        out.printf("    independent check of the service: %,d menu rows, %d whose key or en text in the service differs "
                + "from slug(label) / label (read by hand through GET /refs)%n", sinkChecked, sinkWrong);
        Phase p = catalog.get(SINK_MIGRATION).phase();
        if (p != Phase.CONTRACT_READY || sinkWrong != 0) {
            throw new ShapeshiftException(ErrorCode.INTERNAL, SINK_MIGRATION + " is " + p + " with " + sinkWrong
                    + " rows the service holds wrong after " + timeout.toSeconds() + " s; the in-place contract would "
                    + "stay closed (other-migrations): stopping the demo");
        }
        // Its own contract gate wants the quiet period without application writes to menu_items (a write after the
        // contract would no longer reach the service): the writes paused just now, so wait for the gate, then contract.
        var transitions = GateWiring.transitions(db, "demo");
        while (!transitions.check(SINK_MIGRATION, Phase.CONTRACTED).open()) {
            if (System.nanoTime() > deadline) {
                throw new ShapeshiftException(ErrorCode.INTERNAL, "the contract gate of " + SINK_MIGRATION + " stayed closed: "
                        + transitions.check(SINK_MIGRATION, Phase.CONTRACTED).summary());
            }
            Thread.sleep(1000);
        }
        new Contractor(db, transitions).contract(SINK_MIGRATION, "cli:demo",
                "demo: the service holds every label; the sink stops reading label before the label is dropped");
        Check after = otherMigrations(inPlace);
        out.printf("    %s contracted first (drops nothing; the service keeps its texts)%n", SINK_MIGRATION);
        out.printf("    %-32s %-6s %s%n", "other migrations", after.passed() ? "PASS" : "FAIL", after.evidence());
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(1000);
        return true;
    }

    /** Rows checked, rows wrong: the service's binding and en text of every menu row against its label. */
    private long[] checkAgainstService() throws SQLException {
        Map<String, String> labels = new LinkedHashMap<>();
        try (Connection c = db.connect("demo-check"); PreparedStatement ps = c.prepareStatement(
                "SELECT id, label FROM menu_items ORDER BY id"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                labels.put(Long.toString(rs.getLong(1)), rs.getString(2));
            }
        }
        long wrong = 0;
        List<String> ids = new ArrayList<>(labels.keySet());
        for (int from = 0; from < ids.size(); from += 500) {
            List<String> page = ids.subList(from, Math.min(ids.size(), from + 500));
            JsonNode refs = get("/refs?ids=" + String.join(",", page)).path("refs");
            for (String id : page) {
                String label = labels.get(id);
                JsonNode b = refs.path(id);
                if (label == null || b.isMissingNode() || b.path("deleted").asBoolean()
                        || !Scenario.translateKey(label).equals(b.path("key").asText())
                        || !label.equals(b.path("text").asText())) {
                    wrong++;
                }
            }
        }
        return new long[] {labels.size(), wrong};
    }

    /** Live entries per locale and the pending fan-out, as the service counts them. */
    private Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        JsonNode s = get("/stats");
        s.path("live").fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asLong()));
        m.put("pending", s.path("pendingFanOut").asLong());
        return m;
    }

    /** Every second: when the job has caught up with the seeding (once most rows are seeded). */
    private void watch() {
        while (!closing) {
            try {
                Map<String, Long> m = stats();
                long live = m.getOrDefault("en", 0L);
                maxLive = Math.max(maxLive, live);
                if (fanOutDoneNanos == 0 && live > 0 && m.get("pending") == 0 && seededMost(live)) {
                    fanOutDoneNanos = System.nanoTime();
                    out.printf("    translation service: %,d en texts seeded, fan-out caught up: de %,d, fr %,d "
                            + "(%.1f s after the service started)%n", live, m.getOrDefault("de", 0L),
                            m.getOrDefault("fr", 0L), (fanOutDoneNanos - started) / 1e9);
                }
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // the next look tries again
            }
        }
    }

    private boolean seededMost(long live) {
        try {
            return live >= DemoDatabase.count(db, "SELECT count(*) FROM menu_items") * 9 / 10;
        } catch (SQLException e) {
            return false;
        }
    }

    /**
     * The menu in German, about 20 reads a second: a random row's key from the database, its de
     * text from the service, the label when the service has none yet (a fallback, counted before
     * and after the fan-out caught up); after the label is dropped, the key alone.
     */
    private void readMenu() {
        Random r = new Random(7);
        while (!closing) {
            try (Connection c = appDb.connect("demo-menu-reader")) {
                long max = maxId(c);
                while (!closing) {
                    long id = 3 * (1 + (long) (r.nextDouble() * max / 3));
                    readOne(c, id);
                    Thread.sleep(50);
                }
            } catch (InterruptedException e) {
                return;
            } catch (SQLException | RuntimeException e) {
                readFailures.incrementAndGet();
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private static long maxId(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT max(id) FROM menu_items"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void readOne(Connection c, long id) throws SQLException {
        String key;
        try (PreparedStatement ps = c.prepareStatement("SELECT translate_key FROM menu_items WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getString(1) == null) {
                    return; // deleted, or not backfilled yet: nothing to read by key
                }
                key = rs.getString(1);
            }
        }
        boolean after = fanOutDoneNanos != 0;
        (after ? readsAfter : readsBefore).incrementAndGet();
        JsonNode de = get("/keys?locales=de&ids=" + URLEncoder.encode(key, StandardCharsets.UTF_8)).path("keys").path(key)
                .path("de");
        if (de.path("text").isTextual()) {
            translatedReads.incrementAndGet();
            return;
        }
        (after ? fallbackAfter : fallbackBefore).incrementAndGet();
        if (!labelFallback) {
            get("/keys?locales=en&ids=" + URLEncoder.encode(key, StandardCharsets.UTF_8));
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT label FROM menu_items WHERE id = ?")) {
            ps.setLong(1, id);
            ps.executeQuery().close();
        }
    }

    /**
     * Writes are switched: the label is on its way out, so the reader's fallback becomes the
     * service's en text of the key (the sink seeded every label there), and the label column gets
     * no reads of the application's for the contract's quiet period.
     */
    void stopReadingLabel() {
        labelFallback = false;
        out.println("    the German menu reader now falls back to the service's en text of the key instead of label");
    }

    private JsonNode get(String pathAndQuery) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port()
                    + pathAndQuery)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("translation service answered HTTP " + r.statusCode() + " to " + pathAndQuery);
            }
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("translation service: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Whether the menu story's checks passed: the service matched every row at the contract. */
    boolean ok() {
        return sinkWrong == 0 && sinkChecked > 0;
    }

    /** The summary's figures; first waits (at most {@code atMost}) for the job to translate what is left. */
    void report(Summary summary, Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        Map<String, Long> now = stats();
        if (now.get("pending") > 0) {
            out.printf("    waiting up to %d s for the service's job to translate the %,d en texts still pending%n",
                    atMost.toSeconds(), now.get("pending"));
        }
        while (now.get("pending") > 0 && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            now = stats();
        }
        if (now.get("pending") == 0 && fanOutDoneNanos == 0) {
            fanOutDoneNanos = System.nanoTime(); // caught up while this waited, before the watcher's next look
        }
        summary.add("duplicate keys resolved (labels renamed)", Long.toString(renamed))
                .add(SINK_MIGRATION + ": drift repaired through the sink", Long.toString(sinkRepaired))
                .add("service: keys with an en text", String.format("%,d at the contract, %,d now",
                        atContract.getOrDefault("en", 0L), now.getOrDefault("en", 0L)))
                .add("translations fanned out de / fr", String.format("%,d / %,d (pending %d)", now.getOrDefault("de", 0L),
                        now.getOrDefault("fr", 0L), now.getOrDefault("pending", 0L)))
                .add("fan-out caught up", fanOutDoneNanos == 0 ? "not seen"
                        : String.format("%.1f s after the service started", (fanOutDoneNanos - started) / 1e9))
                .add("menu reads in de: fell back to label", String.format("%,d of %,d before the fan-out caught up, "
                        + "%,d of %,d after (%,d read a de text)", fallbackBefore.get(), readsBefore.get(), fallbackAfter.get(),
                        readsAfter.get(), translatedReads.get()))
                .add("service check at the contract", sinkChecked < 0 ? "not run"
                        : String.format("%,d rows, %d wrong", sinkChecked, sinkWrong));
    }

    @Override
    public void close() {
        closing = true;
        watcher.interrupt();
        reader.interrupt();
        try {
            reader.join(5000);
            watcher.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        service.close();
    }
}
