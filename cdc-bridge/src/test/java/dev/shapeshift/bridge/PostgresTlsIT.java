package dev.shapeshift.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.TestCertificates;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A source database that accepts TCP only over TLS ({@code hostssl} lines only) and asks for a
 * client certificate whose CN is the user ({@code clientcert=verify-full}): the catalog migration
 * (Flyway), the catalog (JDBC) and the bridge's Debezium connections — the replication one
 * included — connect with the {@code sslmode}, {@code sslrootcert}, {@code sslcert} and
 * {@code sslkey} of the JDBC URL, and a change reaches Kafka. Plain TCP, a client without a
 * certificate and a wrong trust root are refused, so the settings are what made it work.
 */
@ExtendWith(KafkaExtension.class)
class PostgresTlsIT {

    @TempDir
    Path dir;

    @Test
    void everyConnectionOfTheBridgeUsesTheUrlsTlsSettings(KafkaBroker kafka) throws Exception {
        TestCertificates ca = TestCertificates.authority(dir, "shapeshift-test");
        TestCertificates.Issued server = ca.issue("localhost", "127.0.0.1", "localhost");
        TestCertificates.Issued client = ca.issue("postgres");
        EmbeddedPostgres.Tls tls = new EmbeddedPostgres.Tls(server.certificate(), server.key(), ca.caCertificate());
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests().withTls(tls))) {
            String verified = "?sslmode=verify-full&sslrootcert=" + ca.caCertificate() + "&sslcert=" + client.certificate()
                    + "&sslkey=" + client.keyDer();
            assertThat(refusal(pg.jdbcUrl("postgres") + "?sslmode=disable", pg))
                    .as("plain TCP").contains("no encryption");
            assertThat(refusal(pg.jdbcUrl("postgres") + "?sslmode=verify-full&sslrootcert=" + ca.caCertificate(), pg))
                    .as("TLS without a client certificate").containsIgnoringCase("certificate");
            TestCertificates other = TestCertificates.authority(dir.resolve("other"), "someone-else");
            assertThat(refusal(pg.jdbcUrl("postgres") + "?sslmode=verify-full&sslrootcert=" + other.caCertificate()
                    + "&sslcert=" + client.certificate() + "&sslkey=" + client.keyDer(), pg))
                    .as("a server certificate the trust root did not sign").containsIgnoringCase("certif");

            PostgresServer overTls = new PostgresServer() {
                public String host() { return pg.host(); }
                public int port() { return pg.port(); }
                public String user() { return pg.user(); }
                public String password() { return pg.password(); }
                @Override
                public String jdbcUrl(String database) {
                    return pg.jdbcUrl(database) + verified;
                }
            };
            BridgeFixture f = BridgeFixture.withItems(overTls, kafka, "tls", "items_tls", "upper(a)");
            try (CdcBridge bridge = f.streaming()) {
                f.sql("INSERT INTO items VALUES (1, 'a'), (2, 'b')");
                await().atMost(Duration.ofSeconds(60)).until(() -> f.events("items_tls", Duration.ofMillis(500)).size() >= 2);
                try (Connection c = f.db.connect("test-check"); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*), count(*) FILTER (WHERE s.ssl AND s.client_dn = '/CN=postgres') "
                             + "FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.backend_type = 'walsender'")) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("the bridge's replication connection").isEqualTo(1);
                    assertThat(rs.getInt(2)).as("... over TLS with the client certificate").isEqualTo(1);
                }
            }
        }
    }

    private static String refusal(String url, PostgresServer pg) {
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password())) {
            throw new AssertionError("connected to " + url + ", expected a refusal");
        } catch (SQLException e) {
            return String.valueOf(e.getMessage()) + " / " + e.getCause();
        }
    }
}
