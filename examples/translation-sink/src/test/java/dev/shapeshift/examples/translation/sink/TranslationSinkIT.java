package dev.shapeshift.examples.translation.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.embedded.FaultProxy;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.examples.translation.GlossaryTranslator;
import dev.shapeshift.examples.translation.ServiceConfig;
import dev.shapeshift.examples.translation.TranslationService;
import dev.shapeshift.sink.PermanentSinkException;
import dev.shapeshift.sink.RetryableSinkException;
import dev.shapeshift.sink.Sink;
import dev.shapeshift.sink.SinkColumn;
import dev.shapeshift.sink.SinkContext;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkProvider;
import dev.shapeshift.sink.SinkRow;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The sink plugin, found by ServiceLoader as a worker finds it, against the real service (in this
 * JVM, its own database): seeding, read back, the version rule through HTTP, a poison row, the
 * service down and back, slow answers. Expected rows are written by the test.
 */
@ExtendWith(PostgresExtension.class)
class TranslationSinkIT {

    private static final List<SinkColumn> COLUMNS = List.of(new SinkColumn("translate_key", "text"),
            new SinkColumn("label", "text"));

    private PostgresServer pg;
    private ServiceConfig config;
    private TranslationService service;

    @BeforeEach
    void start(PostgresServer pg) throws IOException {
        this.pg = pg;
        String db = pg.createDatabase("translations");
        config = ServiceConfig.of(pg.jdbcUrl(db), pg.user(), pg.password()).withPort(freePort());
        service = TranslationService.start(config, GlossaryTranslator.bundled());
    }

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void isFoundByServiceLoaderAndValidatesItsSettings() {
        SinkProvider p = provider();
        assertThat(p.validate(Map.of("url", "http://translate:8090"))).isEmpty();
        assertThat(p.validate(Map.of())).extracting(pr -> pr.setting()).containsExactly("url");
        assertThat(p.validate(Map.of("url", "ftp://x", "colour", "red", "timeoutMs", "-3", "maxRowsPerSecond", "0")))
                .extracting(pr -> pr.setting()).containsExactlyInAnyOrder("url", "colour", "timeoutMs");
        assertThat(p.maxRowsPerSecond(Map.of("url", "http://t:1", "maxRowsPerSecond", "40"))).isEqualTo(40.0);
        assertThat(p.retryPolicy(Map.of("url", "http://t:1", "maxAttempts", "3")).maxAttempts()).isEqualTo(3);
        assertThatThrownBy(() -> p.create(new SinkContext("m", List.of("id"), List.of(new SinkColumn("translate_key", "text")),
                Map.of("url", "http://t:1")))).isInstanceOf(PermanentSinkException.class).hasMessageContaining("exactly two");
    }

    @Test
    void seedsTheLabelAsTheSourceTextOfTheKeyAndReadsItBackUnderTheVersionRule() throws Exception {
        seedsAndReadsBack(Map.of());
    }

    @Test
    void oneCallPerRowSeedsAndReadsBackTheSame() throws Exception {
        seedsAndReadsBack(Map.of("batch", "false"));
    }

    @Test
    void aBatchAppliesEveryRowUnderTheVersionRuleInOneCall() throws Exception {
        try (Sink sink = sink(service.port(), Map.of())) {
            sink.apply(List.of(row(3, 20, "Renamed dish 7"), SinkRow.tombstone(SinkKey.of("6"), 21)));
            // One call: late rows of both keys (must not land), a new row, a replay, and a row without a text.
            sink.apply(List.of(row(3, 15, "Dish no. 1 (Vegan)"), row(6, 19, "Dish no. 2 (Sweet)"),
                    row(9, 12, "Dish no. 3 (Sour)"), row(3, 20, "Renamed dish 7"),
                    SinkRow.upsert(SinkKey.of("12"), 30, values("dish_no_4", null))));
            assertThat(sorted(sink.read(keys(3, 6, 9, 12)))).containsExactly(row(3, 20, "Renamed dish 7"),
                    SinkRow.tombstone(SinkKey.of("6"), 21), row(9, 12, "Dish no. 3 (Sour)"),
                    SinkRow.tombstone(SinkKey.of("12"), 30));
        }
        // More rows than one request may carry: split, every one applied.
        List<SinkRow> many = new java.util.ArrayList<>();
        for (int i = 1; i <= 1500; i++) {
            many.add(row(100 + i, 1000 + i, "Dish no. " + i + " (Sweet)"));
        }
        try (Sink sink = sink(service.port(), Map.of())) {
            sink.apply(many);
            assertThat(sorted(sink.read(many.stream().map(SinkRow::key).toList()))).containsExactlyElementsOf(many);
        }
        assertThat(provider().validate(Map.of("url", "http://t:1", "batch", "yes"))).extracting(pr -> pr.setting())
                .containsExactly("batch");
    }

    private void seedsAndReadsBack(Map<String, String> settings) throws Exception {
        try (Sink sink = sink(service.port(), settings)) {
            sink.apply(List.of(row(3, 10, "Dish no. 1 (Spicy)"), row(6, 11, "Dish no. 2 (Sweet)"), row(9, 12, "Dish no. 3 (Sour)")));
            assertThat(sorted(sink.read(keys(3, 6, 9, 12)))).containsExactly(row(3, 10, "Dish no. 1 (Spicy)"),
                    row(6, 11, "Dish no. 2 (Sweet)"), row(9, 12, "Dish no. 3 (Sour)"));

            sink.apply(List.of(row(3, 20, "Renamed dish 7")));
            sink.apply(List.of(row(3, 15, "Dish no. 1 (Vegan)"))); // late: an older read of the same row
            sink.apply(List.of(SinkRow.tombstone(SinkKey.of("6"), 21)));
            sink.apply(List.of(row(6, 19, "Dish no. 2 (Sweet)"))); // late: must not bring the deleted row back
            sink.apply(List.of(row(9, 12, "Dish no. 3 (Sour)"))); // a replay
            assertThat(sorted(sink.read(keys(3, 6, 9)))).containsExactly(row(3, 20, "Renamed dish 7"),
                    SinkRow.tombstone(SinkKey.of("6"), 21), row(9, 12, "Dish no. 3 (Sour)"));
        }
        // The service's job fans the seeded texts out.
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/stats").contains("\"pendingFanOut\":0"));
        assertThat(get("/keys?ids=renamed_dish_7&locales=de")).contains("\"text\":\"Renamed Gericht 7\"");
        assertThat(get("/keys?ids=dish_no_3_sour_&locales=fr")).contains("\"text\":\"Plat n. 3 (Acide)\"");
    }

    @Test
    void aRowTheServiceRefusesIsPermanentAndNamesOnlyItsKey() throws Exception {
        for (String batch : List.of("true", "false")) {
            int base = batch.equals("true") ? 0 : 100;
            try (Sink sink = sink(service.port(), Map.of("batch", batch))) {
                assertThatThrownBy(() -> sink.apply(List.of(row(base + 12, 30, "x".repeat(600)),
                        row(base + 15, 31, "Dish no. 5 (Vegan)"))))
                        .isInstanceOfSatisfying(PermanentSinkException.class, e -> {
                            assertThat(e.keys()).containsExactly(SinkKey.of(Integer.toString(base + 12)));
                            assertThat(e.getMessage()).contains("TEXT_REJECTED").doesNotContain("xxxx");
                        });
                assertThat(sink.read(keys(base + 12, base + 15))).containsExactly(row(base + 15, 31, "Dish no. 5 (Vegan)"));
            }
        }
    }

    @Test
    void theServiceDownIsRetryableAndARestartedServiceCarriesOn() throws Exception {
        try (Sink sink = sink(service.port(), Map.of("timeoutMs", "2000"))) {
            sink.apply(List.of(row(3, 10, "Dish no. 1 (Spicy)")));
            service.close();
            service = null;
            assertThatThrownBy(() -> sink.apply(List.of(row(6, 11, "Dish no. 2 (Sweet)"))))
                    .isInstanceOf(RetryableSinkException.class).hasMessageContaining("unreachable");
            assertThatThrownBy(() -> sink.read(keys(3))).isInstanceOf(RetryableSinkException.class);

            service = TranslationService.start(config, GlossaryTranslator.bundled());
            sink.apply(List.of(row(6, 11, "Dish no. 2 (Sweet)")));
            assertThat(sorted(sink.read(keys(3, 6)))).containsExactly(row(3, 10, "Dish no. 1 (Spicy)"),
                    row(6, 11, "Dish no. 2 (Sweet)"));
        }
    }

    @Test
    void anAnswerSlowerThanTheTimeoutIsRetryableAndASlowButInTimeOneApplies() throws Exception {
        try (FaultProxy proxy = new FaultProxy("127.0.0.1", service.port()); Sink sink = sink(proxy.port(), Map.of("timeoutMs", "1000"))) {
            proxy.delayReplies(50);
            sink.apply(List.of(row(3, 10, "Dish no. 1 (Spicy)")));
            proxy.delayReplies(5000);
            assertThatThrownBy(() -> sink.apply(List.of(row(6, 11, "Dish no. 2 (Sweet)"))))
                    .isInstanceOf(RetryableSinkException.class).hasMessageContaining("did not answer within 1000 ms");
            proxy.delayReplies(0);
            // The timed-out call may have landed after all; a retry is then a no-op by the version rule.
            sink.apply(List.of(row(6, 11, "Dish no. 2 (Sweet)")));
            assertThat(sorted(sink.read(keys(3, 6)))).containsExactly(row(3, 10, "Dish no. 1 (Spicy)"),
                    row(6, 11, "Dish no. 2 (Sweet)"));
        }
    }

    private static SinkProvider provider() {
        return ServiceLoader.load(SinkProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("translation-service")).findFirst().orElseThrow();
    }

    private static Sink sink(int port, Map<String, String> extra) throws Exception {
        Map<String, String> settings = new LinkedHashMap<>(extra);
        settings.put("url", "http://127.0.0.1:" + port);
        SinkProvider p = provider();
        assertThat(p.validate(settings)).isEmpty();
        return p.create(new SinkContext("menu-translate-key", List.of("id"), COLUMNS, settings));
    }

    /** The row the sink gets for menu_items(id, label), with the key slugified by hand. */
    private static SinkRow row(long id, long version, String label) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("translate_key", label.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "_"));
        values.put("label", label);
        return SinkRow.upsert(SinkKey.of(Long.toString(id)), version, values);
    }

    private static Map<String, String> values(String key, String label) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("translate_key", key);
        values.put("label", label);
        return values;
    }

    private static List<SinkKey> keys(long... ids) {
        return java.util.Arrays.stream(ids).mapToObj(id -> SinkKey.of(Long.toString(id))).toList();
    }

    private static List<SinkRow> sorted(List<SinkRow> rows) {
        return rows.stream().sorted(Comparator.comparingLong(r -> Long.parseLong(r.key().values().get(0)))).toList();
    }

    private String get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + path))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
