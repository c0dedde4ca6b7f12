package dev.shapeshift.coordinator.api;

import static dev.shapeshift.coordinator.Seed.ADMIN;
import static dev.shapeshift.coordinator.Seed.READ;
import static dev.shapeshift.coordinator.Seed.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The dashboard: its files load over HTTP and fetch nothing from elsewhere; rendered by a real
 * headless Chromium (skipped when {@code /usr/bin/chromium} is absent), it shows live numbers.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardIT {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Pattern URL = Pattern.compile("(?i)\\b(?:https?:)?//[a-z0-9.-]+");
    /** XML namespace names are identifiers, never fetched. */
    private static final List<String> ALLOWED = List.of("http://www.w3.org");

    private final PostgresServer pg;
    private Coordinator coordinator;

    DashboardIT(PostgresServer pg) {
        this.pg = pg;
    }

    @BeforeAll
    void start() throws Exception {
        Database db = Seed.database(pg, "dashboard");
        Seed.migration(db, "users", "backfilling", "5m");
        coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, ADMIN, READ, Duration.ofSeconds(2)),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    @AfterAll
    void stop() {
        coordinator.close();
    }

    @Test
    void pageAndAssetsLoadWithoutExternalUrls() {
        for (String path : List.of("/", "/app.js", "/style.css")) {
            Seed.Response r = call(coordinator.port(), "GET", path, null, null);
            assertThat(r.status()).as(path).isEqualTo(200);
            Matcher m = URL.matcher(r.body());
            while (m.find()) {
                String url = m.group();
                assertThat(ALLOWED.stream().anyMatch(url::startsWith)).as("external URL in " + path + ": " + url).isTrue();
            }
            assertThat(r.body()).as(path).doesNotContainIgnoringCase("@import").doesNotContain("cdn");
        }
        assertThat(call(coordinator.port(), "GET", "/", null, null).body()).contains("<script src=\"app.js\">");
    }

    @Test
    void headlessChromiumShowsLiveNumbers() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "chromium is not installed; skipping the browser rendering check");
        String dom = new String(chromium("--dump-dom"), StandardCharsets.UTF_8);
        String shot = System.getProperty("dashboard.screenshot");
        if (shot != null) {
            chromium("--screenshot=" + shot, "--window-size=1280,900");
        }
        assertThat(dom).contains("data-migration=\"users\"");
        assertThat(dom).containsPattern("data-testid=\"phase\"[^>]*>backfilling<");
        assertThat(dom).containsPattern("data-testid=\"chunks\"[^>]*>3/4 \\(1 running\\)<");
        assertThat(dom).containsPattern("data-testid=\"rows\"[^>]*>3,000 / ~4,000<");
        assertThat(dom).containsPattern("data-testid=\"drift-open\"[^>]*>3<");
        assertThat(dom).contains("[\"11\"]").contains("backfill not done: 3/4 chunks");
        assertThat(dom).contains("flag not set (reads old shape)");
        assertThat(dom).doesNotContain(READ);
    }

    private byte[] chromium(String... action) throws Exception {
        Path profile = Files.createTempDirectory("dash-profile");
        List<String> cmd = new java.util.ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile, "--virtual-time-budget=5000"));
        cmd.addAll(List.of(action));
        cmd.add("http://127.0.0.1:" + coordinator.port() + "/#token=" + READ);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
