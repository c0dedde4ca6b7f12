package dev.shapeshift.embedded;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Injects a {@link KafkaBroker} (or an {@link EmbeddedKafka}) into tests. One broker per test JVM,
 * started on first use and closed when the test run ends.
 *
 * <p>Set {@code -Dshapeshift.test.kafka.bootstrap=host:port} (or env
 * {@code SHAPESHIFT_TEST_KAFKA_BOOTSTRAP}) to use an external cluster instead; parameters typed
 * {@link EmbeddedKafka} then fail with a message saying so.
 */
public final class KafkaExtension implements ParameterResolver {

  public static final String BOOTSTRAP_PROPERTY = "shapeshift.test.kafka.bootstrap";

  private static final Logger log = LoggerFactory.getLogger(KafkaExtension.class);
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(KafkaExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == KafkaBroker.class || type == EmbeddedKafka.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    KafkaBroker broker = broker(context);
    if (parameter.getParameter().getType() == EmbeddedKafka.class && !(broker instanceof EmbeddedKafka)) {
      throw new ParameterResolutionException("this test needs an EmbeddedKafka (it controls the "
          + "broker) but an external cluster is configured via " + BOOTSTRAP_PROPERTY + ": " + broker);
    }
    return broker;
  }

  /** The JVM-wide broker, for code that is not a parameter. */
  public static KafkaBroker broker(ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(KafkaBroker.class, k -> create(), KafkaBroker.class);
  }

  private static KafkaBroker create() {
    return TestOverrides.get(BOOTSTRAP_PROPERTY, "SHAPESHIFT_TEST_KAFKA_BOOTSTRAP")
        .<KafkaBroker>map(bootstrap -> {
          log.info("tests use external kafka bootstrap={}", bootstrap);
          return new ExternalKafka(bootstrap);
        })
        .orElseGet(EmbeddedKafka::start);
  }
}
