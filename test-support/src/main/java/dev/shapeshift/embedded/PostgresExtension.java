package dev.shapeshift.embedded;

import org.junit.jupiter.api.extension.ExtensionContext;
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
public final class PostgresExtension extends SharedServerExtension<PostgresServer> {

  public static final String JDBC_URL_PROPERTY = "shapeshift.test.jdbcUrl";
  public static final String USER_PROPERTY = "shapeshift.test.user";
  public static final String PASSWORD_PROPERTY = "shapeshift.test.password";

  private static final Logger log = LoggerFactory.getLogger(PostgresExtension.class);

  public PostgresExtension() {
    super(PostgresServer.class, EmbeddedPostgres.class, JDBC_URL_PROPERTY, "SHAPESHIFT_TEST_JDBC_URL");
  }

  @Override
  String needsEmbedded(PostgresServer server) {
    return "this test needs an EmbeddedPostgres (it controls the server) but "
        + "the tests run against " + server + " (" + TestBackend.PROPERTY + " / " + JDBC_URL_PROPERTY + ")";
  }

  /** The JVM-wide server, for code that is not a parameter (e.g. a static helper). */
  public static PostgresServer server(ExtensionContext context) {
    return new PostgresExtension().shared(context);
  }

  @Override
  PostgresServer external(String jdbcUrl) {
    ExternalPostgres external = ExternalPostgres.fromJdbcUrl(jdbcUrl,
        TestOverrides.get(USER_PROPERTY, "SHAPESHIFT_TEST_USER").orElse("postgres"),
        TestOverrides.get(PASSWORD_PROPERTY, "SHAPESHIFT_TEST_PASSWORD").orElse("postgres"));
    log.info("tests use external postgres server={}", external);
    return external;
  }

  @Override
  PostgresServer container() {
    PostgresServer container = ContainerBackend.postgres();
    log.info("tests use a postgres container server={}", container);
    return container;
  }

  @Override
  PostgresServer embedded() {
    return EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests());
  }
}
