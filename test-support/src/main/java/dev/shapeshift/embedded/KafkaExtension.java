package dev.shapeshift.embedded;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

  private static final Logger log = LoggerFactory.getLogger(KafkaExtension.class);

  public KafkaExtension() {
    super(KafkaBroker.class, EmbeddedKafka.class, BOOTSTRAP_PROPERTY, "SHAPESHIFT_TEST_KAFKA_BOOTSTRAP");
  }

  @Override
  String needsEmbedded(KafkaBroker broker) {
    return "this test needs an EmbeddedKafka (it controls the broker) but the "
        + "tests run against " + broker + " (" + TestBackend.PROPERTY + " / " + BOOTSTRAP_PROPERTY + ")";
  }

  /** The JVM-wide broker, for code that is not a parameter. */
  public static KafkaBroker broker(ExtensionContext context) {
    return new KafkaExtension().shared(context);
  }

  @Override
  KafkaBroker external(String bootstrap) {
    log.info("tests use external kafka bootstrap={}", bootstrap);
    return new ExternalKafka(bootstrap);
  }

  @Override
  KafkaBroker container() {
    KafkaBroker container = ContainerBackend.kafka();
    log.info("tests use a kafka container broker={}", container);
    return container;
  }

  @Override
  KafkaBroker embedded() {
    return EmbeddedKafka.start();
  }
}
