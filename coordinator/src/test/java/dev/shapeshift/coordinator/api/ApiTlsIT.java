package dev.shapeshift.coordinator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.TestCertificates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API over HTTPS with a provided key and certificate: a client that trusts the issuing CA gets
 * answers (and the token checks as over HTTP); the same port refuses plain HTTP; a client that
 * does not trust the certificate fails its handshake; half a configuration is refused at start.
 */
@ExtendWith(PostgresExtension.class)
class ApiTlsIT {
    private static final String ADMIN = "api-tls-it-admin-token-0123456789";

    @TempDir
    Path dir;

    @Test
    void httpsOnlyWithTheProvidedCertificate(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "api_tls");
        TestCertificates ca = TestCertificates.authority(dir, "api-test-ca");
        TestCertificates.Issued cert = ca.issue("localhost", "127.0.0.1", "localhost");
        Coordinator.Config config = new Coordinator.Config("127.0.0.1", 0, db, ADMIN, null, Duration.ofSeconds(1))
                .withTls(new ApiTls(cert.certificate(), cert.key()));
        try (Coordinator coordinator = Coordinator.start(config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            int port = coordinator.port();
            HttpClient trusting = HttpClient.newBuilder().sslContext(trusting(ca.caCertificate()))
                    .connectTimeout(Duration.ofSeconds(10)).build();
            assertThat(get(trusting, "https://127.0.0.1:" + port + "/api/migrations", ADMIN).statusCode()).isEqualTo(200);
            assertThat(get(trusting, "https://127.0.0.1:" + port + "/api/migrations", null).statusCode()).isEqualTo(401);
            assertThat(get(trusting, "https://127.0.0.1:" + port + "/livez", null).statusCode()).isEqualTo(200);

            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            assertThatThrownBy(() -> get(plain, "http://127.0.0.1:" + port + "/api/migrations", ADMIN))
                    .as("plain HTTP on the HTTPS port gets no answer").isInstanceOf(IOException.class);
            assertThatThrownBy(() -> get(plain, "https://127.0.0.1:" + port + "/livez", null))
                    .as("a client that does not trust the issuing CA").isInstanceOf(SSLHandshakeException.class);
        }
    }

    @Test
    void aCertificateWithoutItsKeyIsAConfigurationError() throws IOException {
        Path crt = Files.writeString(dir.resolve("only.crt"), "x");
        assertThatThrownBy(() -> ApiTls.of(crt, null)).isInstanceOf(ShapeshiftException.class)
                .hasMessageContaining("--tls-key-file is missing")
                .satisfies(e -> assertThat(((ShapeshiftException) e).code()).isEqualTo(ErrorCode.CONFIG_INVALID));
        assertThatThrownBy(() -> ApiTls.of(crt, dir.resolve("absent.key"))).isInstanceOf(ShapeshiftException.class)
                .hasMessageContaining("absent.key is not a readable file");
        assertThat(ApiTls.of(null, null)).isNull();
    }

    private static HttpResponse<String> get(HttpClient client, String url, String token)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET();
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static SSLContext trusting(Path caPem) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
