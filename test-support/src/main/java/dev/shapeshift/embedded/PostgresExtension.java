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
 * Injects a {@link PostgresServer} (or an {@link EmbeddedPostgres}) into test constructors, methods
 * and lifecycle methods. One server per test JVM, started on first use with
 * {@link EmbeddedPostgres.Options#forTests()} and closed when the test run ends.
 *
 * <p>Set {@code -Dshapeshift.test.jdbcUrl=jdbc:postgresql://host:port/any} (or env
 * {@code SHAPESHIFT_TEST_JDBC_URL}), plus {@code shapeshift.test.user} / {@code .password}
 * ({@code SHAPESHIFT_TEST_USER} / {@code _PASSWORD}, default postgres/postgres) to use an external
 * server instead. Parameters typed {@link EmbeddedPostgres} (tests that stop or restart the server)
 * are then skipped with a message saying so; declare {@link PostgresServer} where either will do.
 *
 * <p>{@code -Dshapeshift.test.backend=containers} uses a Testcontainers PostgreSQL instead, where
 * Docker exists, and skips the tests where it does not ({@link TestBackend}).
 */
public final class PostgresExtension implements ParameterResolver, ExecutionCondition {

  public static final String JDBC_URL_PROPERTY = "shapeshift.test.jdbcUrl";
  public static final String USER_PROPERTY = "shapeshift.test.user";
  public static final String PASSWORD_PROPERTY = "shapeshift.test.password";

  private static final Logger log = LoggerFactory.getLogger(PostgresExtension.class);
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(PostgresExtension.class);

  /**
   * Skips (never fails) the tests this backend cannot serve: all of them under
   * {@code containers} without a Docker engine; a test method that needs the {@link EmbeddedPostgres}
   * itself when another backend is chosen.
   */
  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    return TestBackend.condition(choice(), context, EmbeddedPostgres.class);
  }

  private static TestBackend.Choice choice() {
    return TestBackend.choose(TestBackend.setting(), TestOverrides.get(JDBC_URL_PROPERTY, "SHAPESHIFT_TEST_JDBC_URL"), () -> ContainerBackend.dockerAvailableCached());
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == PostgresServer.class || type == EmbeddedPostgres.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    PostgresServer server = server(context);
    if (parameter.getParameter().getType() == EmbeddedPostgres.class
        && !(server instanceof EmbeddedPostgres)) {
      throw new ParameterResolutionException("this test needs an EmbeddedPostgres (it controls the server) but "
          + "the tests run against " + server + " (" + TestBackend.PROPERTY + " / " + JDBC_URL_PROPERTY + ")");
    }
    return server;
  }

  /** The JVM-wide server, for code that is not a parameter (e.g. a static helper). */
  public static PostgresServer server(ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(PostgresServer.class, k -> create(), PostgresServer.class);
  }

  private static PostgresServer create() {
    Optional<String> url = TestOverrides.get(JDBC_URL_PROPERTY, "SHAPESHIFT_TEST_JDBC_URL");
    TestBackend.Choice choice = choice();
    if (choice.skipped()) {
      throw new ParameterResolutionException(choice.skipReason()); // the condition skipped such tests already
    }
    return switch (choice.backend()) {
      case EXTERNAL -> {
        ExternalPostgres external = ExternalPostgres.fromJdbcUrl(url.orElseThrow(),
            TestOverrides.get(USER_PROPERTY, "SHAPESHIFT_TEST_USER").orElse("postgres"),
            TestOverrides.get(PASSWORD_PROPERTY, "SHAPESHIFT_TEST_PASSWORD").orElse("postgres"));
        log.info("tests use external postgres server={}", external);
        yield external;
      }
      case CONTAINERS -> {
        PostgresServer container = ContainerBackend.postgres();
        log.info("tests use a postgres container server={}", container);
        yield container;
      }
      case EMBEDDED -> EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests());
    };
  }
}
