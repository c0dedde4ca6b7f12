package dev.shapeshift.embedded;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
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
 * then fail with a message saying so; declare {@link PostgresServer} where either will do.
 */
public final class PostgresExtension implements ParameterResolver {

  public static final String JDBC_URL_PROPERTY = "shapeshift.test.jdbcUrl";
  public static final String USER_PROPERTY = "shapeshift.test.user";
  public static final String PASSWORD_PROPERTY = "shapeshift.test.password";

  private static final Logger log = LoggerFactory.getLogger(PostgresExtension.class);
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(PostgresExtension.class);

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
      throw new ParameterResolutionException("this test needs an EmbeddedPostgres (it controls the "
          + "server) but an external server is configured via " + JDBC_URL_PROPERTY + ": " + server);
    }
    return server;
  }

  /** The JVM-wide server, for code that is not a parameter (e.g. a static helper). */
  public static PostgresServer server(ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(PostgresServer.class, k -> create(), PostgresServer.class);
  }

  private static PostgresServer create() {
    return TestOverrides.get(JDBC_URL_PROPERTY, "SHAPESHIFT_TEST_JDBC_URL")
        .<PostgresServer>map(url -> {
          ExternalPostgres external = ExternalPostgres.fromJdbcUrl(url,
              TestOverrides.get(USER_PROPERTY, "SHAPESHIFT_TEST_USER").orElse("postgres"),
              TestOverrides.get(PASSWORD_PROPERTY, "SHAPESHIFT_TEST_PASSWORD").orElse("postgres"));
          log.info("tests use external postgres server={}", external);
          return external;
        })
        .orElseGet(() -> EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests()));
  }
}
