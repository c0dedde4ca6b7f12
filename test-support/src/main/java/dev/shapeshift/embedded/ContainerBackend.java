package dev.shapeshift.embedded;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The {@link TestBackend#CONTAINERS} servers. Only this class touches Testcontainers, and it is
 * loaded only when that backend is chosen: the other backends need no Testcontainers on the class
 * path.
 */
final class ContainerBackend {
  static final String POSTGRES_IMAGE_PROPERTY = "shapeshift.test.postgresImage";
  static final String KAFKA_IMAGE_PROPERTY = "shapeshift.test.kafkaImage";
  static final String DEFAULT_POSTGRES_IMAGE = "postgres:17";
  static final String DEFAULT_KAFKA_IMAGE = "apache/kafka:4.1.0";

  private ContainerBackend() {}

  private static volatile Boolean dockerAvailable;

  /**
   * Whether Testcontainers finds a Docker engine, asked once per JVM. The extensions call it from a
   * lambda that {@link TestBackend#choose} runs only when the containers backend is chosen, so this
   * class (and Testcontainers) is loaded only then.
   */
  static boolean dockerAvailableCached() {
    Boolean known = dockerAvailable;
    if (known == null) {
      known = dockerAvailable();
      dockerAvailable = known;
    }
    return known;
  }

  static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  /** A PostgreSQL container with logical decoding on, as Shapeshift needs (docs/compatibility.md). */
  static ContainerPostgres postgres() {
    String image = TestOverrides.get(POSTGRES_IMAGE_PROPERTY, "SHAPESHIFT_TEST_POSTGRES_IMAGE").orElse(DEFAULT_POSTGRES_IMAGE);
    PostgreSQLContainer container = new PostgreSQLContainer(DockerImageName.parse(image).asCompatibleSubstituteFor("postgres"))
        .withUsername("postgres").withPassword("postgres")
        .withCommand("postgres", "-c", "wal_level=logical", "-c", "max_replication_slots=40",
            "-c", "max_wal_senders=40", "-c", "max_connections=300", "-c", "shared_preload_libraries=pg_stat_statements");
    container.start();
    return new ContainerPostgres(container);
  }

  static ContainerKafka kafka() {
    String image = TestOverrides.get(KAFKA_IMAGE_PROPERTY, "SHAPESHIFT_TEST_KAFKA_IMAGE").orElse(DEFAULT_KAFKA_IMAGE);
    KafkaContainer container = new KafkaContainer(DockerImageName.parse(image));
    container.start();
    return new ContainerKafka(container);
  }

  /** A PostgreSQL container as a {@link PostgresServer}; closing it stops the container. */
  record ContainerPostgres(PostgreSQLContainer container) implements PostgresServer, AutoCloseable {

    @Override
    public String host() {
      return container.getHost();
    }

    @Override
    public int port() {
      return container.getMappedPort(PostgreSQLContainer.POSTGRESQL_PORT);
    }

    @Override
    public String user() {
      return container.getUsername();
    }

    @Override
    public String password() {
      return container.getPassword();
    }

    @Override
    public void close() {
      container.stop();
    }

    @Override
    public String toString() {
      return "ContainerPostgres[" + container.getDockerImageName() + " " + host() + ":" + port() + "]";
    }
  }

  /** A Kafka container as a {@link KafkaBroker}; closing it stops the container. */
  record ContainerKafka(KafkaContainer container) implements KafkaBroker, AutoCloseable {

    @Override
    public String bootstrapServers() {
      return container.getBootstrapServers();
    }

    @Override
    public void close() {
      container.stop();
    }

    @Override
    public String toString() {
      return "ContainerKafka[" + container.getDockerImageName() + " " + bootstrapServers() + "]";
    }
  }
}
