package dev.shapeshift.embedded;

import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
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
public final class KafkaExtension implements ParameterResolver, ExecutionCondition {

  public static final String BOOTSTRAP_PROPERTY = "shapeshift.test.kafka.bootstrap";

  private static final Logger log = LoggerFactory.getLogger(KafkaExtension.class);
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(KafkaExtension.class);

  /**
   * Skips (never fails) the tests this backend cannot serve: all of them under
   * {@code containers} without a Docker engine; a test method that needs the {@link EmbeddedKafka}
   * itself when another backend is chosen.
   */
  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    return TestBackend.condition(choice(), context, EmbeddedKafka.class);
  }

  private static TestBackend.Choice choice() {
    return TestBackend.choose(TestBackend.setting(), TestOverrides.get(BOOTSTRAP_PROPERTY, "SHAPESHIFT_TEST_KAFKA_BOOTSTRAP"), () -> ContainerBackend.dockerAvailableCached());
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == KafkaBroker.class || type == EmbeddedKafka.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    KafkaBroker broker = broker(context);
    if (parameter.getParameter().getType() == EmbeddedKafka.class && !(broker instanceof EmbeddedKafka)) {
      throw new ParameterResolutionException("this test needs an EmbeddedKafka (it controls the broker) but the "
          + "tests run against " + broker + " (" + TestBackend.PROPERTY + " / " + BOOTSTRAP_PROPERTY + ")");
    }
    return broker;
  }

  /** The JVM-wide broker, for code that is not a parameter. */
  public static KafkaBroker broker(ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(KafkaBroker.class, k -> create(), KafkaBroker.class);
  }

  private static KafkaBroker create() {
    Optional<String> bootstrap = TestOverrides.get(BOOTSTRAP_PROPERTY, "SHAPESHIFT_TEST_KAFKA_BOOTSTRAP");
    TestBackend.Choice choice = choice();
    if (choice.skipped()) {
      throw new ParameterResolutionException(choice.skipReason()); // the condition skipped such tests already
    }
    return switch (choice.backend()) {
      case EXTERNAL -> {
        log.info("tests use external kafka bootstrap={}", bootstrap.orElseThrow());
        yield new ExternalKafka(bootstrap.orElseThrow());
      }
      case CONTAINERS -> {
        KafkaBroker container = ContainerBackend.kafka();
        log.info("tests use a kafka container broker={}", container);
        yield container;
      }
      case EMBEDDED -> EmbeddedKafka.start();
    };
  }
}
