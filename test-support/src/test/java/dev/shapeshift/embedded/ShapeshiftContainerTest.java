package dev.shapeshift.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.testcontainers.utility.DockerImageName;

/**
 * The container's configuration — command, environment, secrets, ports, readiness probe, network
 * aliases — without starting it: this machine has no Docker engine (docs/compatibility.md).
 */
class ShapeshiftContainerTest {
  private static final DockerImageName IMAGE = DockerImageName.parse("shapeshift/shapeshift:0.1.0-SNAPSHOT");

  @Test
  void theCoordinatorGetsItsCredentialsAsFilesAndIsReadyOnReadyz() {
    ShapeshiftContainer c = ShapeshiftContainer.coordinator(IMAGE, "admin-secret-token")
        .withPostgres("postgres", "app", "shapeshift", "db-secret-password").withKafka("kafka:19092")
        .withSpec("users.yaml", "name: users\n");
    c.configure();
    assertThat(c.getCommandParts()).containsExactly("coordinator", "--jdbc-url", "jdbc:postgresql://postgres:5432/app",
        "--user", "shapeshift", "--password-file", "/run/secrets/shapeshift_db_password", "--admin-token-file",
        "/run/secrets/shapeshift_admin_token", "--bind", "0.0.0.0", "--port", "8080", "--replication", "1",
        "--bootstrap", "kafka:19092", "--specs-dir", "/etc/shapeshift/specs");
    assertThat(c.secretFiles()).containsExactly("/run/secrets/shapeshift_admin_token", "/run/secrets/shapeshift_db_password");
    assertThat(String.join(" ", c.getCommandParts()) + c.getEnvMap())
        .doesNotContain("db-secret-password").doesNotContain("admin-secret-token");
    assertThat(c.getEnvMap()).containsEntry("JAVA_TOOL_OPTIONS", "-Xmx256m");
    assertThat(c.getExposedPorts()).containsExactly(8080);
    assertThat(c.getNetworkAliases()).contains("shapeshift-coordinator");
    assertThat(c.readinessPath()).isEqualTo("/readyz");
    assertThat(c.readinessPort()).isEqualTo(8080);
  }

  @Test
  void theBridgeAndAWorkerAreReadyOnLivezOfTheirMetricsPort() {
    ShapeshiftContainer bridge = ShapeshiftContainer.bridge(IMAGE)
        .withJdbcUrl("jdbc:postgresql://pg:5432/app?sslmode=require", "shapeshift", "pw").withKafka("kafka:19092");
    bridge.configure();
    assertThat(bridge.getCommandParts()).containsExactly("cdc-bridge", "--jdbc-url",
        "jdbc:postgresql://pg:5432/app?sslmode=require", "--user", "shapeshift", "--password-file",
        "/run/secrets/shapeshift_db_password", "--replication", "1", "--metrics-port", "9404", "--bootstrap", "kafka:19092");
    assertThat(bridge.getNetworkAliases()).contains("shapeshift-cdc-bridge");
    assertThat(bridge.readinessPath()).isEqualTo("/livez");
    assertThat(bridge.getExposedPorts()).containsExactly(9404);

    ShapeshiftContainer worker = ShapeshiftContainer.worker(IMAGE, "w1")
        .withPostgres("postgres", "app", "shapeshift", "pw").withKafka("kafka:19092");
    worker.configure();
    assertThat(worker.getCommandParts()).startsWith("worker").contains("--worker-id", "w1", "--metrics-port", "9404");
    assertThat(worker.getNetworkAliases()).contains("shapeshift-worker-w1");
    assertThat(worker.readinessPath()).isEqualTo("/livez");
    assertThat(worker.readinessPort()).isEqualTo(9404);
  }

  @Test
  void missingOrBadSettingsAreRefusedWithTheFix() {
    assertThatThrownBy(() -> ShapeshiftContainer.bridge(IMAGE).withKafka("kafka:9092").commandLine())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("withPostgres");
    assertThatThrownBy(() -> ShapeshiftContainer.worker(IMAGE, "w1").withPostgres("pg", "app", "u", "p").commandLine())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("withKafka");
    assertThatThrownBy(() -> ShapeshiftContainer.worker(IMAGE, "w 1")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workerId");
    assertThatThrownBy(() -> ShapeshiftContainer.bridge(IMAGE).withJdbcUrl("postgres://pg/app", "u", "p"))
        .hasMessageContaining("jdbc:postgresql://");
    assertThatThrownBy(() -> ShapeshiftContainer.coordinator(IMAGE, "")).hasMessageContaining("adminToken");
    assertThatThrownBy(() -> ShapeshiftContainer.bridge(IMAGE).withSpec("a.yaml", "x"))
        .hasMessageContaining("only the coordinator");
    assertThatThrownBy(() -> ShapeshiftContainer.bridge(IMAGE).apiUrl()).hasMessageContaining("only the coordinator");
  }

  /** The image the class documents is the one Jib builds, and the ports the one the compose file probes. */
  @Test
  void matchesTheJibImageAndTheComposeFile() throws Exception {
    String pom = Files.readString(Path.of("..", "launcher", "pom.xml"));
    Matcher to = Pattern.compile("<to>\\s*<image>([^<]+)</image>").matcher(pom);
    assertThat(to.find()).as("launcher/pom.xml has Jib's <to><image>").isTrue();
    assertThat(to.group(1)).isEqualTo(ShapeshiftContainer.IMAGE_REPOSITORY + ":${project.version}");

    String compose = Files.readString(Path.of("..", "docker-compose.yml"));
    assertThat(compose).contains("image: " + ShapeshiftContainer.IMAGE_REPOSITORY + ":")
        .contains("/dev/tcp/127.0.0.1/" + ShapeshiftContainer.API_PORT + " && printf 'GET /readyz")
        .contains("/dev/tcp/127.0.0.1/" + ShapeshiftContainer.METRICS_PORT + " && printf 'GET /livez");
  }
}
