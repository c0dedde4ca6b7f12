package dev.shapeshift.embedded;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * One Shapeshift role — the coordinator, the cdc-bridge or a worker — in a container of the image
 * Jib builds ({@value #IMAGE_REPOSITORY}{@code :<version>}, docs/deployment.md), for a team's own
 * integration tests against their PostgreSQL and Kafka containers on the same Docker network:
 *
 * <pre>{@code
 * Network net = Network.newNetwork();
 * PostgreSQLContainer pg = new PostgreSQLContainer("postgres:17").withNetwork(net).withNetworkAliases("postgres")
 *     .withCommand("postgres", "-c", "wal_level=logical", "-c", "shared_preload_libraries=pg_stat_statements");
 * KafkaContainer kafka = new KafkaContainer("apache/kafka:4.1.0").withNetwork(net).withListener("kafka:19092");
 * DockerImageName image = DockerImageName.parse("shapeshift/shapeshift:0.1.0-SNAPSHOT");
 * ShapeshiftContainer coordinator = ShapeshiftContainer.coordinator(image, "admin-token")
 *     .withPostgres("postgres", "test", pg.getUsername(), pg.getPassword()).withKafka("kafka:19092").withNetwork(net);
 * ShapeshiftContainer bridge = ShapeshiftContainer.bridge(image)
 *     .withPostgres("postgres", "test", pg.getUsername(), pg.getPassword()).withKafka("kafka:19092").withNetwork(net);
 * ShapeshiftContainer worker = ShapeshiftContainer.worker(image, "w1")
 *     .withPostgres("postgres", "test", pg.getUsername(), pg.getPassword()).withKafka("kafka:19092").withNetwork(net);
 * // start pg and kafka, then the three; the API and the flag endpoint: coordinator.apiUrl()
 * }</pre>
 *
 * <p>Credentials go into the container as files ({@code /run/secrets/…}), as in
 * {@code docker-compose.yml}: never on the command line, where {@code docker inspect} and the
 * process list would show them. The coordinator is ready when {@code GET /readyz} answers 200; the
 * bridge and a worker when {@code GET /livez} of their metrics port does. Network aliases:
 * {@code shapeshift-coordinator}, {@code shapeshift-cdc-bridge}, {@code shapeshift-worker-<id>}.
 * The class needs Testcontainers ({@code org.testcontainers:testcontainers}) on the test class path;
 * Shapeshift's own build has no Docker engine, so only the configuration is tested there.
 */
public final class ShapeshiftContainer extends GenericContainer<ShapeshiftContainer> {
  /** The repository Jib pushes to (launcher/pom.xml); the tag is the project version. */
  public static final String IMAGE_REPOSITORY = "shapeshift/shapeshift";
  /** The coordinator's API port inside the container. */
  public static final int API_PORT = 8080;
  /** The bridge's and the workers' {@code --metrics-port} inside the container. */
  public static final int METRICS_PORT = 9404;
  static final String DB_PASSWORD_FILE = "/run/secrets/shapeshift_db_password";
  static final String ADMIN_TOKEN_FILE = "/run/secrets/shapeshift_admin_token";
  static final String SPECS_DIR = "/etc/shapeshift/specs";

  /** The three roles, as the CLI names them. */
  public enum Role {
    COORDINATOR("coordinator"), CDC_BRIDGE("cdc-bridge"), WORKER("worker");

    private final String command;

    Role(String command) {
      this.command = command;
    }

    public String command() {
      return command;
    }
  }

  private final Role role;
  private final List<String> roleOptions;
  private final String readinessPath;
  private final int readinessPort;
  private final java.util.Set<String> secretFiles = new java.util.TreeSet<>();
  private final java.util.Set<String> specFiles = new java.util.TreeSet<>();
  private String jdbcUrl;
  private String user;
  private String bootstrap;

  private ShapeshiftContainer(DockerImageName image, Role role, List<String> roleOptions, String alias) {
    super(image);
    this.role = role;
    this.roleOptions = List.copyOf(roleOptions);
    withNetworkAliases(alias);
    withEnv("JAVA_TOOL_OPTIONS", "-Xmx256m");
    this.readinessPort = role == Role.COORDINATOR ? API_PORT : METRICS_PORT;
    this.readinessPath = role == Role.COORDINATOR ? "/readyz" : "/livez";
    withExposedPorts(readinessPort);
    waitingFor(Wait.forHttp(readinessPath).forPort(readinessPort).forStatusCode(200)
        .withStartupTimeout(Duration.ofMinutes(2)));
  }

  /**
   * The coordinator, serving its API and the flag endpoint on {@link #API_PORT}; with
   * {@link #withKafka} it drives the migrations. The admin token goes in as a file.
   */
  public static ShapeshiftContainer coordinator(DockerImageName image, String adminToken) {
    requireSecret(adminToken, "adminToken");
    ShapeshiftContainer c = new ShapeshiftContainer(image, Role.COORDINATOR, List.of("--admin-token-file", ADMIN_TOKEN_FILE,
        "--bind", "0.0.0.0", "--port", Integer.toString(API_PORT), "--replication", "1"), "shapeshift-coordinator");
    return c.secret(adminToken, ADMIN_TOKEN_FILE);
  }

  /** The cdc-bridge, with topics of replication factor 1 (one test broker). */
  public static ShapeshiftContainer bridge(DockerImageName image) {
    return new ShapeshiftContainer(image, Role.CDC_BRIDGE, List.of("--replication", "1", "--metrics-port",
        Integer.toString(METRICS_PORT)), "shapeshift-cdc-bridge");
  }

  /** A worker with this {@code --worker-id} (unique per worker). */
  public static ShapeshiftContainer worker(DockerImageName image, String workerId) {
    if (workerId == null || !workerId.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("workerId: letters, digits, '.', '_' or '-' (it becomes a network alias), got "
          + workerId);
    }
    return new ShapeshiftContainer(image, Role.WORKER, List.of("--worker-id", workerId, "--metrics-port",
        Integer.toString(METRICS_PORT)), "shapeshift-worker-" + workerId);
  }

  /**
   * The source database as the container reaches it on the Docker network: {@code host} is the
   * PostgreSQL container's network alias, port 5432 inside the network. The password goes in as a file.
   */
  public ShapeshiftContainer withPostgres(String host, String database, String user, String password) {
    return withJdbcUrl("jdbc:postgresql://" + Objects.requireNonNull(host, "host") + ":5432/"
        + Objects.requireNonNull(database, "database"), user, password);
  }

  /** The source database by JDBC URL (the address must be reachable from inside the container). */
  public ShapeshiftContainer withJdbcUrl(String url, String user, String password) {
    if (url == null || !url.startsWith("jdbc:postgresql://")) {
      throw new IllegalArgumentException("jdbcUrl: expected jdbc:postgresql://host:port/database, got " + url);
    }
    requireSecret(password, "password");
    this.jdbcUrl = url;
    this.user = Objects.requireNonNull(user, "user");
    return secret(password, DB_PASSWORD_FILE);
  }

  /**
   * A migration spec for the coordinator to register at start ({@code --specs-dir}
   * {@value #SPECS_DIR}), as a team's test would hand it its own migration.
   */
  public ShapeshiftContainer withSpec(String fileName, String yaml) {
    if (role != Role.COORDINATOR) {
      throw new IllegalStateException("only the coordinator reads specs; this is the " + role.command());
    }
    if (fileName == null || !fileName.matches("[A-Za-z0-9._-]+\\.ya?ml")) {
      throw new IllegalArgumentException("fileName: a plain file name ending in .yaml or .yml, got " + fileName);
    }
    specFiles.add(SPECS_DIR + "/" + fileName);
    return withCopyToContainer(Transferable.of(Objects.requireNonNull(yaml, "yaml"), 0444), SPECS_DIR + "/" + fileName);
  }

  /** Kafka's bootstrap servers as the container reaches them (a listener on the Docker network). */
  public ShapeshiftContainer withKafka(String bootstrapServers) {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("bootstrapServers: host:port of a listener reachable on the container's network");
    }
    this.bootstrap = bootstrapServers;
    return self();
  }

  public Role role() {
    return role;
  }

  /** The coordinator's API as the test (on the host) reaches it: {@code http://host:mappedPort}. */
  public String apiUrl() {
    if (role != Role.COORDINATOR) {
      throw new IllegalStateException("only the coordinator serves the API; this is the " + role.command());
    }
    return "http://" + getHost() + ":" + getMappedPort(API_PORT);
  }

  /** The command the container runs, built from the role and the connection settings. */
  @Override
  protected void configure() {
    setCommand(commandLine().toArray(String[]::new));
  }

  /** The role's command line (without the image's entry point); fails if a required setting is missing. */
  public List<String> commandLine() {
    if (jdbcUrl == null) {
      throw new IllegalStateException("ShapeshiftContainer " + role.command() + ": call withPostgres or withJdbcUrl first");
    }
    if (bootstrap == null && role != Role.COORDINATOR) {
      throw new IllegalStateException("ShapeshiftContainer " + role.command() + ": call withKafka first");
    }
    List<String> cmd = new ArrayList<>(List.of(role.command(), "--jdbc-url", jdbcUrl, "--user", user, "--password-file",
        DB_PASSWORD_FILE));
    cmd.addAll(roleOptions);
    if (bootstrap != null) {
      cmd.addAll(List.of("--bootstrap", bootstrap));
    }
    if (!specFiles.isEmpty()) {
      cmd.addAll(List.of("--specs-dir", SPECS_DIR));
    }
    return cmd;
  }

  /** Where the readiness probe asks: the path and the port inside the container. */
  public String readinessPath() {
    return readinessPath;
  }

  public int readinessPort() {
    return readinessPort;
  }

  /** The files in the container that hold a credential. */
  public java.util.Set<String> secretFiles() {
    return java.util.Collections.unmodifiableSet(secretFiles);
  }

  private ShapeshiftContainer secret(String value, String path) {
    secretFiles.add(path);
    // 0444: the copy is owned by root and the image runs as 65532 (launcher/pom.xml); nothing else runs inside.
    return withCopyToContainer(Transferable.of(value, 0444), path);
  }

  private static void requireSecret(String value, String what) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(what + ": must not be empty");
    }
  }
}
