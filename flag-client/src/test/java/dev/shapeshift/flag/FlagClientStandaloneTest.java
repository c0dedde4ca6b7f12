package dev.shapeshift.flag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The artifact applications embed: it carries none of Shapeshift's runtime, and against a database
 * it cannot reach it answers the old shape, stale, without blocking. (Reading real flags from a
 * real catalog: FlagClientIT in the coordinator module, which owns the catalog schema.)
 */
class FlagClientStandaloneTest {
    @Test
    void theArtifactCarriesNoKafkaFlywayHikariOrYaml() {
        for (String cls : new String[] {"org.apache.kafka.clients.producer.KafkaProducer", "org.flywaydb.core.Flyway",
                "com.zaxxer.hikari.HikariDataSource", "com.fasterxml.jackson.dataformat.yaml.YAMLFactory",
                "dev.shapeshift.db.Database"}) {
            assertThatThrownBy(() -> Class.forName(cls)).as(cls).isInstanceOf(ClassNotFoundException.class);
        }
    }

    @Test
    void anUnreachableDatabaseGivesTheOldShapeMarkedStale() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (FlagClient flags = new FlagClient(FlagClient.jdbc("jdbc:postgresql://127.0.0.1:" + port + "/app", "app", "x"),
                new FlagClient.Options(Duration.ofMillis(200), Duration.ofSeconds(1)))) {
            FlagClient.FlagValue v = flags.value("users.read-new");
            assertThat(v.value()).isFalse();
            assertThat(v.stale()).isTrue();
            assertThat(v.readAt()).isNull();
            assertThat(flags.isOn("users.read-new")).isFalse();
            assertThat(flags.refresh()).isFalse();
        }
    }

    @Test
    void onlyPostgresUrlsAreAccepted() {
        assertThatThrownBy(() -> FlagClient.jdbc("jdbc:mysql://db/app", "u", "p"))
                .hasMessageContaining("a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database)");
    }
}
