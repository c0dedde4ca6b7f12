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
 * headless Chromium (skipped when {@code /usr/bin/chromium} is absent: {@code apt-get install chromium}),
 * it shows live numbers and draws the stored history with uPlot. {@code -Ddashboard.screenshot=FILE.png}
 * also saves a screenshot to look at.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardIT {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Pattern URL = Pattern.compile("(?i)\\b(?:https?:)?//[a-z0-9.-]+");
    /** XML namespace names are identifiers, never fetched. */
    private static final List<String> ALLOWED = List.of("http://www.w3.org");

    private Coordinator coordinator;
    private dev.shapeshift.db.Leadership bridge;

    @BeforeAll
    void start(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "dashboard");
        Seed.migration(db, "users", "backfilling", "5m");
        // 15 minutes of history as the coordinator records it (one sample per 10 s): three drift
        // keys found and repaired between two polls, a lag spike, the backfill speeding up.
        Seed.sql(db, "INSERT INTO shapeshift.status_history (migration, at, phase, drift_open, drift_found, drift_repaired, "
                + "sync_lag_seconds, slot_lag_bytes, rows_copied, rows_per_second, chunks_done, chunks_total, "
                + "streams_running, streams_stopped, heartbeat_age_seconds) SELECT 'users', now() - i * interval '10 s', "
                + "'backfilling', CASE WHEN i BETWEEN 30 AND 40 THEN 3 ELSE 0 END, CASE WHEN i <= 40 THEN 3 ELSE 0 END, "
                + "CASE WHEN i < 30 THEN 3 ELSE 0 END, 0.4 + CASE WHEN i BETWEEN 50 AND 60 THEN 7.5 ELSE 0.2 * (i % 3) END, "
                + "(90 - i) * 1048576, (90 - i) * 33, 20 + (90 - i) * 0.5, (90 - i) / 30, 4, 2, 0, 1.0 "
                + "FROM generate_series(0, 90) i",
                "UPDATE shapeshift.migration SET slot_name = 'shapeshift_users' WHERE name = 'users'",
                "INSERT INTO shapeshift.sync_stream (migration, partition, owner, partitions, state, applied_offset, "
                        + "applied_lsn, applied_commit_at, applied_at) VALUES ('users', 0, 'w1', 2, 'RUNNING', 41, '0/16B3748', "
                        + "now() - interval '1 second', now()), ('users', 1, 'w2', 2, 'STOPPED_POISON', 7, '0/16B3748', "
                        + "now() - interval '1 minute', now() - interval '1 minute')",
                "INSERT INTO shapeshift.finding (migration, item, kind, key, detail, total) VALUES "
                        + "('users', 'unique index users_slug_key', 'duplicate', '[[\"4\"], [\"9\"]]', "
                        + "'value (ann) on 2 rows', 1), ('users', 'not null email_verified', 'null', '[\"17\"]', NULL, 3)",
                "DELETE FROM shapeshift.audit WHERE migration = 'users'",
                "INSERT INTO shapeshift.audit (at, migration, actor, action, from_phase, to_phase, reason) VALUES "
                        + "(now() - interval '20 minutes', 'users', 'test', 'transition', NULL, 'planned', 'registered'), "
                        + "(now() - interval '19 minutes', 'users', 'test', 'transition', 'planned', 'expanded', 'driver'), "
                        + "(now() - interval '18 minutes', 'users', 'test', 'transition', 'expanded', 'syncing', 'driver'), "
                        + "(now() - interval '16 minutes', 'users', 'test', 'transition', 'syncing', 'backfilling', 'driver')");
        // a bridge leading the slot, as the health panel finds it: the session holding its lock
        bridge = new dev.shapeshift.db.Leadership(db, "shapeshift.bridge/shapeshift_users", "cdc-bridge-leader");
        assertThat(bridge.tryAcquire()).isTrue();
        coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, db, ADMIN, READ, Duration.ofSeconds(2)),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    @AfterAll
    void stop() {
        coordinator.close();
        bridge.close();
    }

    @Test
    void pageAndAssetsLoadWithoutExternalUrls() {
        for (String path : List.of("/", "/app.js", "/style.css", "/vendor/uplot/dist/uPlot.iife.min.js",
                "/vendor/uplot/dist/uPlot.min.css", "/vendor/uplot/LICENSE")) {
            Seed.Response r = call(coordinator.port(), "GET", path, null, null);
            assertThat(r.status()).as(path).isEqualTo(200);
            // uPlot's one-line banner names its home page; it is a comment, never fetched
            Matcher m = URL.matcher(r.body().replaceFirst("^/\\*! https://github\\.com/leeoniya/uPlot \\(v[0-9.]+\\) \\*/", ""));
            while (m.find()) {
                String url = m.group();
                assertThat(ALLOWED.stream().anyMatch(url::startsWith)).as("external URL in " + path + ": " + url).isTrue();
            }
            assertThat(r.body()).as(path).doesNotContainIgnoringCase("@import").doesNotContain("cdn");
        }
        assertThat(call(coordinator.port(), "GET", "/", null, null).body()).contains("<script src=\"app.js\">")
                .contains("<script src=\"vendor/uplot/dist/uPlot.iife.min.js\">");
        assertThat(call(coordinator.port(), "GET", "/vendor/uplot/LICENSE", null, null).body()).contains("MIT");
    }

    @Test
    void headlessChromiumShowsLiveNumbers() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "chromium is not installed; skipping the browser rendering check");
        String dom = new String(chromium("--dump-dom"), StandardCharsets.UTF_8);
        String shot = System.getProperty("dashboard.screenshot");
        if (shot != null) {
            chromium("--screenshot=" + shot, "--window-size=1280,1700");
        }
        assertThat(dom).contains("data-migration=\"users\"");
        assertThat(dom).containsPattern("data-testid=\"phase\"[^>]*>backfilling<");
        assertThat(dom).containsPattern("data-testid=\"chunks\"[^>]*>3/4 \\(1 running\\)<");
        assertThat(dom).containsPattern("data-testid=\"rows\"[^>]*>3,000 / ~4,000<");
        assertThat(dom).containsPattern("data-testid=\"drift-open\"[^>]*>3<");
        assertThat(dom).contains("[\"11\"]").contains("backfill not done: 3/4 chunks");
        assertThat(dom).contains("flag not set (reads old shape)");
        // the findings of the staged structure, one row each, with the totals per item
        assertThat(dom).containsPattern("data-testid=\"findings-total\"[^>]*>4<")
                .contains("not null email_verified 3, unique index users_slug_key 1");
        assertThat(dom).containsPattern("<td>unique index users_slug_key</td><td>duplicate</td><td>\\[\\[\"4\"\\], \\[\"9\"\\]\\]</td>"
                + "<td>value \\(ann\\) on 2 rows</td>");
        assertThat(dom).containsPattern("<td>not null email_verified</td><td>null</td><td>\\[\"17\"\\]</td>");
        assertThat(dom).doesNotContain(READ);
        // the charts come from the stored history and are drawn by uPlot, with axes and units
        assertThat(dom).containsPattern("data-testid=\"history-note\"[^>]*>9[1-9] samples over the last 1h");
        for (String title : List.of("Drift (rows)", "Sync lag (seconds)", "Backfill rate (rows/s)", "WAL retained by the slot (MiB)")) {
            assertThat(dom).as(title).containsPattern("class=\"u-title\"[^>]*>" + Pattern.quote(title) + "<");
        }
        assertThat(count(dom, "<canvas")).isEqualTo(4);
        assertThat(dom).contains("found (total)").contains("repaired (total)").contains("slowest stream");
        assertThat(dom).containsPattern("data-testid=\"phase-durations\".*>syncing<.*>2m00s<");
        assertThat(dom).containsPattern("data-testid=\"bridge\">cdc-bridge \\(slot shapeshift_users\\): <span[^>]*>leader: pid \\d+");
        assertThat(dom).contains("1 bridge session(s) connected");
        assertThat(dom).containsPattern("<td>w1</td>.*<td>p0 RUNNING</td>").containsPattern("<td>w2</td>.*<td>p1 STOPPED_POISON</td>");
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    /**
     * One headless Chromium run; its output goes to a file, so a browser that never exits (seen
     * once under a load of 40 on two cores) fails the test after two minutes instead of hanging the
     * build, and every process it started is ended.
     */
    private byte[] chromium(String... action) throws Exception {
        Path profile = Files.createTempDirectory("dash-profile");
        Path out = Files.createTempFile("dash-out", ".html");
        List<String> cmd = new java.util.ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-crash-reporter", "--disable-breakpad",
                "--user-data-dir=" + profile, "--virtual-time-budget=5000"));
        cmd.addAll(List.of(action));
        cmd.add("http://127.0.0.1:" + coordinator.port() + "/#token=" + READ);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectOutput(out.toFile()).start();
        try {
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("chromium finished within 2 minutes").isTrue();
            return Files.readAllBytes(out);
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }
}
