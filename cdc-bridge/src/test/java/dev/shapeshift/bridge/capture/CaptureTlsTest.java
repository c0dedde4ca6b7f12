package dev.shapeshift.bridge.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.db.Database;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The JDBC URL's TLS parameters reach Debezium's own connections (the replication one included). */
class CaptureTlsTest {

    @Test
    void tlsParametersOfTheUrlBecomeDebeziumDatabaseSettings() {
        String url = "jdbc:postgresql://db.example:5433/app?sslmode=verify-full&sslrootcert=/etc/ca%20dir/root.crt"
                + "&sslcert=/etc/c.crt&sslkey=/etc/c.pk8&sslpassword=s3cret&connectTimeout=5";
        Properties p = CaptureEngine.properties(BridgeConfig.of(new Database(url, "u", "pw"), "k:9092"), List.of());
        assertThat(p.getProperty("database.sslmode")).isEqualTo("verify-full");
        assertThat(p.getProperty("database.sslrootcert")).isEqualTo("/etc/ca dir/root.crt");
        assertThat(p.getProperty("database.sslcert")).isEqualTo("/etc/c.crt");
        assertThat(p.getProperty("database.sslkey")).isEqualTo("/etc/c.pk8");
        assertThat(p.getProperty("database.sslpassword")).isEqualTo("s3cret");
        assertThat(p.getProperty("database.hostname")).isEqualTo("db.example");
        assertThat(p.getProperty("database.port")).isEqualTo("5433");
        assertThat(p.getProperty("database.dbname")).isEqualTo("app");
        assertThat(p.stringPropertyNames()).noneMatch(k -> k.contains("connectTimeout"));
    }

    @Test
    void sslTrueMeansVerifyFullAsInTheJdbcDriverAndNoParametersMeanNone() {
        assertThat(CaptureEngine.tlsOf("jdbc:postgresql://h/db?ssl=true&sslrootcert=/ca.crt"))
                .isEqualTo(Map.of("sslmode", "verify-full", "sslrootcert", "/ca.crt"));
        assertThat(CaptureEngine.tlsOf("jdbc:postgresql://h/db?ssl=true&sslmode=require"))
                .isEqualTo(Map.of("sslmode", "require"));
        assertThat(CaptureEngine.tlsOf("jdbc:postgresql://h/db")).isEmpty();
        assertThat(CaptureEngine.tlsOf("jdbc:postgresql://h/db?ApplicationName=x")).isEmpty();
    }
}
