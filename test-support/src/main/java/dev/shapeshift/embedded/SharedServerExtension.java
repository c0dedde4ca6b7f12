package dev.shapeshift.embedded;

import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link PostgresExtension} and {@link KafkaExtension} share: one server of type {@code S} per
 * test JVM, kept in the root store (so it is closed when the test run ends) and started on first
 * use on the backend {@link TestBackend} chooses — external when the override {@code property} /
 * {@code env} names an address, a container under {@code containers}, else embedded. Parameters
 * typed {@code S} or its embedded type are injected; the embedded type only on the embedded backend
 * (the condition skips such tests elsewhere).
 */
abstract class SharedServerExtension<S> implements ParameterResolver, ExecutionCondition {
  /**
   * The kind of server an extension shares, and how to get one on each backend.
   *
   * @param what     its name in the log ({@code postgres}, {@code kafka})
   * @param noun     what the embedded one is ({@code server}, {@code broker})
   * @param property the system property naming an external one ({@code env}: its environment variable)
   * @param external the server at the override's address
   */
  record Kind<S>(Class<S> type, Class<? extends S> embeddedType, String what, String noun, String property, String env,
                 Function<String, ? extends S> external, Supplier<? extends S> container, Supplier<? extends S> embedded) {
  }

  private final Kind<S> kind;
  private final Logger log;

  SharedServerExtension(Kind<S> kind) {
    this.kind = kind;
    this.log = LoggerFactory.getLogger(getClass());
  }

  /**
   * Skips (never fails) the tests this backend cannot serve: all of them under
   * {@code containers} without a Docker engine; a test method that needs the embedded server
   * itself when another backend is chosen.
   */
  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    return TestBackend.condition(choice(), context, kind.embeddedType());
  }

  private Optional<String> override() {
    return TestOverrides.get(kind.property(), kind.env());
  }

  private TestBackend.Choice choice() {
    return TestBackend.choose(TestBackend.setting(), override(), () -> ContainerBackend.dockerAvailableCached());
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> t = parameter.getParameter().getType();
    return t == kind.type() || t == kind.embeddedType();
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    S server = shared(context);
    if (parameter.getParameter().getType() == kind.embeddedType() && !kind.embeddedType().isInstance(server)) {
      throw new ParameterResolutionException("this test needs an " + kind.embeddedType().getSimpleName() + " (it controls the "
          + kind.noun() + ") but the tests run against " + server + " (" + TestBackend.PROPERTY + " / " + kind.property() + ")");
    }
    return server;
  }

  /** The JVM-wide server. */
  final S shared(ExtensionContext context) {
    return context.getRoot().getStore(ExtensionContext.Namespace.create(getClass()))
        .getOrComputeIfAbsent(kind.type(), k -> create(), kind.type());
  }

  private S create() {
    TestBackend.Choice choice = choice();
    if (choice.skipped()) {
      throw new ParameterResolutionException(choice.skipReason()); // the condition skipped such tests already
    }
    return switch (choice.backend()) {
      case EXTERNAL -> {
        S external = kind.external().apply(override().orElseThrow());
        log.info("tests use external {} {}={}", kind.what(), kind.noun(), external);
        yield external;
      }
      case CONTAINERS -> {
        S container = kind.container().get();
        log.info("tests use a {} container {}={}", kind.what(), kind.noun(), container);
        yield container;
      }
      case EMBEDDED -> kind.embedded().get();
    };
  }
}
