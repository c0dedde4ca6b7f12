package dev.shapeshift.launcher.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.examples.translation.GlossaryTranslator;
import dev.shapeshift.examples.translation.ServiceConfig;
import dev.shapeshift.examples.translation.TranslationService;
import dev.shapeshift.sink.SinkColumn;
import dev.shapeshift.sink.SinkContext;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkRow;
import dev.shapeshift.sinks.SinkApplier;
import dev.shapeshift.sinks.SinkPlugins;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code shapeshift bench sink}: how fast the translation sink (examples/translation-sink) seeds
 * the translation service (examples/translation-service, in this JVM, its own database on one
 * embedded PostgreSQL) one call per row ({@code batch: false}) against one {@code POST /refs} per
 * batch ({@code batch: true}), in one run. The rows are the menu demo's ({@code Dish no. N (…)}),
 * handed to {@link SinkApplier} (the pipeline's caller of every sink: batches of the plugin's
 * {@code maxBatchRows}, no pacing) in slices of 500 as a backfill chunk's sub-batches would be.
 * Each measurement gets a fresh service database; the service's fan-out job is idle during it
 * (its first pass runs at start, on an empty store; the next in an hour), so only seeding is timed.
 * After each, the service's {@code /stats} must count every row as a live source-locale entry.
 */
public final class SinkBench {
    private static final int SLICE = 500;

    public record Options(long rows, int rounds, Path out, String command) {
    }

    record Run(int round, String mode, long rows, double seconds, double rowsPerSecond, long held) {
    }

    private SinkBench() {
    }

    public static Path run(Options o, PrintStream out) throws Exception {
        OffsetDateTime started = OffsetDateTime.now();
        List<Run> runs = new ArrayList<>();
        Map<String, String> machine;
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.defaults())) {
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl("postgres"), pg.user(), pg.password())) {
                machine = Machine.describe(c);
            }
            for (int round = 1; round <= o.rounds(); round++) {
                for (boolean batch : new boolean[] {false, true}) {
                    Run r = measure(pg, o, round, batch);
                    runs.add(r);
                    out.printf(Locale.ROOT, "round %d %-12s %,d rows in %.2f s: %,.0f rows/s (service holds %,d)%n", r.round(),
                            r.mode(), r.rows(), r.seconds(), r.rowsPerSecond(), r.held());
                    if (r.held() != o.rows()) {
                        throw new IllegalStateException("the service holds " + r.held() + " source texts after seeding "
                                + o.rows() + " rows (" + r.mode() + ")");
                    }
                }
            }
        }
        Path md = write(o, machine, started, runs);
        out.println("wrote " + md);
        return md;
    }

    private static Run measure(EmbeddedPostgres pg, Options o, int round, boolean batch) throws Exception {
        String db = pg.createDatabase("bench_translations_" + round + (batch ? "_batch" : "_single"));
        ServiceConfig config = ServiceConfig.of(pg.jdbcUrl(db), pg.user(), pg.password())
                .withFanOutEvery(Duration.ofHours(1));
        try (TranslationService service = TranslationService.start(config, GlossaryTranslator.bundled())) {
            Map<String, String> settings = Map.of("url", "http://127.0.0.1:" + service.port(), "maxRowsPerSecond", "0",
                    "batch", Boolean.toString(batch));
            SinkContext context = new SinkContext("bench-sink", List.of("id"),
                    List.of(new SinkColumn("translate_key", "text"), new SinkColumn("label", "text")), settings);
            List<SinkRow> rows = rows(o.rows());
            long t0 = System.nanoTime();
            try (SinkApplier applier = new SinkApplier(SinkPlugins.installed().require("translation-service"), context,
                    SinkApplier.Listener.NONE, () -> false)) {
                for (int from = 0; from < rows.size(); from += SLICE) {
                    SinkApplier.Outcome outcome = applier.apply(rows.subList(from, Math.min(rows.size(), from + SLICE)));
                    if (!outcome.refused().isEmpty()) {
                        throw new IllegalStateException("rows refused: " + SinkApplier.describe(outcome.refused()));
                    }
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Run(round, batch ? "batched" : "one per row", rows.size(), seconds, rows.size() / seconds,
                    heldSourceTexts(service.port()));
        }
    }

    /** The menu demo's labels, keyed like menu_items (every third id), versions increasing. */
    private static List<SinkRow> rows(long n) {
        String[] tastes = {"Spicy", "Sweet", "Sour", "Vegan"};
        List<SinkRow> out = new ArrayList<>();
        for (long g = 1; g <= n; g++) {
            String label = "Dish no. " + g + " (" + tastes[(int) ((1 + g) % 4)] + ")";
            Map<String, String> values = new LinkedHashMap<>();
            values.put("translate_key", label.replaceAll("[^a-zA-Z0-9]+", "_").toLowerCase(Locale.ROOT));
            values.put("label", label);
            out.add(SinkRow.upsert(SinkKey.of(Long.toString(g * 3)), 1000 + g, values));
        }
        return out;
    }

    private static long heldSourceTexts(int port) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/stats")).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode stats = new ObjectMapper().readTree(r.body());
        return stats.path("live").path(stats.path("sourceLocale").asText()).asLong();
    }

    private static Path write(Options o, Map<String, String> machine, OffsetDateTime started, List<Run> runs)
            throws IOException {
        String base = LocalDate.now() + "-sink-translation-" + o.rows();
        StringBuilder b = new StringBuilder();
        b.append("# Sink benchmark: seeding the translation service, one call per row vs batched\n\n");
        ResultFiles.header(b, started, o.command(), machine);
        b.append("\nThe service runs in this JVM on its own database of the same embedded PostgreSQL (fsync on); the rows "
                + "go through `SinkApplier` (the pipeline's sink caller) in slices of " + SLICE + ", no pacing "
                + "(`maxRowsPerSecond: 0`). One per row: a `PUT /keys/{key}/en` per row (one transaction each). Batched: "
                + "one `POST /refs` per `maxBatchRows` (500) rows, one transaction. Fresh service database per run; "
                + "the fan-out job idle. After each run the service's `/stats` counted every row as a live `en` text. "
                + "Ratio: batched ÷ one per row of the same round.\n\n");
        b.append("| round | mode | rows | seconds | rows/s | batched ÷ one per row |\n|---|---|---|---|---|---|\n");
        for (Run r : runs) {
            Run single = runs.stream().filter(x -> x.round() == r.round() && x.mode().equals("one per row")).findFirst()
                    .orElseThrow();
            b.append(String.format(Locale.ROOT, "| %d | %s | %,d | %.2f | %,.0f | %s |%n", r.round(), r.mode(), r.rows(),
                    r.seconds(), r.rowsPerSecond(), r == single ? "1" : String.format(Locale.ROOT, "%.1f",
                            r.rowsPerSecond() / single.rowsPerSecond())));
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("rows", o.rows());
        fields.put("runs", runs);
        return ResultFiles.write(o.out(), base, b.toString(), started, o.command(), machine, fields);
    }
}
