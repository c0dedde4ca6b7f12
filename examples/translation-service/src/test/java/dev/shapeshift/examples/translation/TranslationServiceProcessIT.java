package dev.shapeshift.examples.translation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The service as its own process ({@link TranslationServiceMain} in a child JVM): killed with
 * SIGKILL in the middle of its fan-out and started again on the same database and port, it loses
 * nothing and finishes the fan-out; a bad option exits 2 with a message naming it.
 */
@ExtendWith(PostgresExtension.class)
class TranslationServiceProcessIT {

    private static final String[] TASTES = {"Spicy", "Sweet", "Sour", "Vegan"};

    @Test
    void aServiceKilledMidFanOutResumesFromItsStorage(PostgresServer pg) throws Exception {
        String db = pg.createDatabase("translations");
        int port = freePort();
        Path log = Files.createTempFile("translation-service", ".log");
        Process first = start(pg, db, port, log, "--fan-out-per-second", "50");
        Http http = new Http(port);
        int n = 120;
        try {
            for (int g = 1; g <= n; g++) {
                assertThat(http.put(key(g), "en", label(g), 1000 + g).status()).isEqualTo(200);
            }
            // Kill it once the job has written some translations but not all of them.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
                JsonNode live = http.get("/stats").body().path("live");
                return live.path("de").asLong() >= 10;
            });
        } finally {
            first.destroyForcibly();
            assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        // What the dead service's storage holds, read by the test from its database.
        java.util.Map<String, Long> atKill = new java.util.HashMap<>();
        try (java.sql.Connection c = pg.connect(db); java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT locale, count(*) FROM translation GROUP BY locale")) {
            while (rs.next()) {
                atKill.put(rs.getString(1), rs.getLong(2));
            }
        }
        assertThat(atKill.get("en")).as("every seeded text survived").isEqualTo(n);
        assertThat(atKill.get("de")).as("killed mid fan-out: " + atKill).isLessThan(n);
        Process second = start(pg, db, port, Files.createTempFile("translation-service", ".log"));
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> http.get("/stats").body().path("pendingFanOut").asLong() == 0);
            List<String> wrong = new ArrayList<>();
            for (int g = 1; g <= n; g++) {
                JsonNode held = http.get("/keys?ids=" + key(g)).body().path("keys").path(key(g));
                // by hand: 'Dish no. g (Taste)' -> 'Gericht Nr. g (Geschmack)' / 'Plat n. g (Goût)'
                String de = "Gericht Nr. " + g + " (" + new String[] {"Scharf", "Süß", "Sauer", "Vegan"}[g % 4] + ")";
                String fr = "Plat n. " + g + " (" + new String[] {"Épicé", "Sucré", "Acide", "Végétalien"}[g % 4] + ")";
                if (!held.path("de").path("text").asText().equals(de) || !held.path("fr").path("text").asText().equals(fr)
                        || held.path("de").path("version").asLong() != 1000 + g) {
                    wrong.add(key(g) + "=" + held);
                }
            }
            assertThat(wrong).isEmpty();
        } finally {
            second.destroy();
            assertThat(second.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aBadOptionExitsTwoNamingIt(PostgresServer pg) throws Exception {
        Path log = Files.createTempFile("translation-service", ".log");
        Process p = start(pg, "postgres", freePort(), log, "--locales", "de,xx");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(Files.readString(log)).contains("--locales [de, xx]: the translator only writes");
    }

    private static Process start(PostgresServer pg, String db, int port, Path log, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), TranslationServiceMain.class.getName(),
                "--jdbc-url", pg.jdbcUrl(db), "--user", pg.user(), "--password", pg.password(), "--port", Integer.toString(port)));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        if (extra.length == 0 || !extra[0].equals("--locales")) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (!p.isAlive()) {
                    throw new AssertionError("the service exited " + p.exitValue() + ": " + Files.readString(log));
                }
                return Files.readString(log).contains("translation-service listening port=" + port);
            });
        }
        return p;
    }

    private static String label(int g) {
        return "Dish no. " + g + " (" + TASTES[g % 4] + ")";
    }

    private static String key(int g) {
        return "dish_no_" + g + "_" + TASTES[g % 4].toLowerCase(java.util.Locale.ROOT) + "_";
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
