package dev.shapeshift.embedded;

import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * What {@link PostgresExtension} and {@link KafkaExtension} share: one server of type {@code S} per
 * test JVM, kept in the root store (so it is closed when the test run ends) and started on first
 * use on the backend {@link TestBackend} chooses — external when the override {@code property} /
 * {@code env} names an address, a container under {@code containers}, else embedded. Parameters
 * typed {@code S} or its embedded type are injected; the embedded type only on the embedded backend
 * (the condition skips such tests elsewhere).
 */
abstract class SharedServerExtension<S> implements ParameterResolver, ExecutionCondition {
  private final Class<S> type;
  private final Class<? extends S> embeddedType;
  private final String property;
  private final String env;

  SharedServerExtension(Class<S> type, Class<? extends S> embeddedType, String property, String env) {
    this.type = type;
    this.embeddedType = embeddedType;
    this.property = property;
    this.env = env;
  }

  /** The server at {@code address} (the override's value). */
  abstract S external(String address);

  abstract S container();

  abstract S embedded();

  /** Why a parameter of the embedded type cannot be given when the tests run against {@code server}. */
  abstract String needsEmbedded(S server);

  /**
   * Skips (never fails) the tests this backend cannot serve: all of them under
   * {@code containers} without a Docker engine; a test method that needs the embedded server
   * itself when another backend is chosen.
   */
  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    return TestBackend.condition(choice(), context, embeddedType);
  }

  private Optional<String> override() {
    return TestOverrides.get(property, env);
  }

  private TestBackend.Choice choice() {
    return TestBackend.choose(TestBackend.setting(), override(), () -> ContainerBackend.dockerAvailableCached());
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> t = parameter.getParameter().getType();
    return t == type || t == embeddedType;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    S server = shared(context);
    if (parameter.getParameter().getType() == embeddedType && !embeddedType.isInstance(server)) {
      throw new ParameterResolutionException(needsEmbedded(server));
    }
    return server;
  }

  /** The JVM-wide server. */
  final S shared(ExtensionContext context) {
    return context.getRoot().getStore(ExtensionContext.Namespace.create(getClass()))
        .getOrComputeIfAbsent(type, k -> create(), type);
  }

  private S create() {
    TestBackend.Choice choice = choice();
    if (choice.skipped()) {
      throw new ParameterResolutionException(choice.skipReason()); // the condition skipped such tests already
    }
    return switch (choice.backend()) {
      case EXTERNAL -> external(override().orElseThrow());
      case CONTAINERS -> container();
      case EMBEDDED -> embedded();
    };
  }
}
