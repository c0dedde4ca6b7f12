package dev.shapeshift.embedded;

import org.junit.jupiter.api.extension.ExtensionContext;

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

  public PostgresExtension() {
    super(new Kind<>(PostgresServer.class, EmbeddedPostgres.class, "postgres", "server", JDBC_URL_PROPERTY,
        "SHAPESHIFT_TEST_JDBC_URL", PostgresExtension::external, ContainerBackend::postgres,
        () -> EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests())));
  }

  /** The JVM-wide server, for code that is not a parameter (e.g. a static helper). */
  public static PostgresServer server(ExtensionContext context) {
    return new PostgresExtension().shared(context);
  }

  private static PostgresServer external(String jdbcUrl) {
    return ExternalPostgres.fromJdbcUrl(jdbcUrl,
        TestOverrides.get(USER_PROPERTY, "SHAPESHIFT_TEST_USER").orElse("postgres"),
        TestOverrides.get(PASSWORD_PROPERTY, "SHAPESHIFT_TEST_PASSWORD").orElse("postgres"));
  }
}
