package dev.shapeshift.embedded;

import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Injects a {@link KafkaBroker} (or an {@link EmbeddedKafka}) into tests. One broker per test JVM,
 * started on first use and closed when the test run ends.
 *
 * <p>Set {@code -Dshapeshift.test.kafka.bootstrap=host:port} (or env
 * {@code SHAPESHIFT_TEST_KAFKA_BOOTSTRAP}) to use an external cluster instead; parameters typed
 * {@link EmbeddedKafka} are then skipped with a message saying so. {@code -Dshapeshift.test.backend=containers}
 * uses a Testcontainers Kafka where Docker exists and skips the tests where it does not
 * ({@link TestBackend}).
 */
public final class KafkaExtension extends SharedServerExtension<KafkaBroker> {

  public static final String BOOTSTRAP_PROPERTY = "shapeshift.test.kafka.bootstrap";

  public KafkaExtension() {
    super(new Kind<>(KafkaBroker.class, EmbeddedKafka.class, "kafka", "broker", BOOTSTRAP_PROPERTY,
        "SHAPESHIFT_TEST_KAFKA_BOOTSTRAP", ExternalKafka::new, ContainerBackend::kafka, EmbeddedKafka::start));
  }

  /** The JVM-wide broker, for code that is not a parameter. */
  public static KafkaBroker broker(ExtensionContext context) {
    return new KafkaExtension().shared(context);
  }
}
