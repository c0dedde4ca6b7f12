package dev.shapeshift.embedded;

import java.util.Locale;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Which servers the integration tests run against, chosen once per test JVM by
 * {@link PostgresExtension} and {@link KafkaExtension}:
 *
 * <ul>
 *   <li>{@code embedded} (the default): PostgreSQL from Maven-fetched binaries and an in-JVM KRaft
 *       broker; needs nothing but a JDK.</li>
 *   <li>{@code external}: servers someone else runs, named by {@code shapeshift.test.jdbcUrl} /
 *       {@code shapeshift.test.kafka.bootstrap} (setting one selects it for that server).</li>
 *   <li>{@code containers}: Testcontainers' {@code PostgreSQLContainer} and {@code KafkaContainer}
 *       (images {@code shapeshift.test.postgresImage}, {@code shapeshift.test.kafkaImage}), where a
 *       Docker engine is reachable. Where it is not, every test that asks for a server is
 *       <em>skipped</em> with the reason (aborted, never failed and never run on another backend),
 *       so one switch serves a laptop, a user's CI and this Docker-less machine alike.</li>
 * </ul>
 *
 * Each setting is a system property or its environment variable ({@code SHAPESHIFT_TEST_BACKEND},
 * …), as {@link TestOverrides} reads them.
 */
public enum TestBackend {
  EMBEDDED, EXTERNAL, CONTAINERS;

  public static final String PROPERTY = "shapeshift.test.backend";
  public static final String ENV = "SHAPESHIFT_TEST_BACKEND";

  /** A choice: the backend to use, or why the tests that need a server are skipped. */
  public record Choice(TestBackend backend, String skipReason) {
    public boolean skipped() {
      return skipReason != null;
    }
  }

  /**
   * The decision, from the backend setting, the external server's address if one is set, and
   * whether a Docker engine answers (asked only when containers are chosen).
   *
   * @throws IllegalArgumentException for an unknown backend name, or an external address given
   *     together with {@code containers} (two answers to one question: say which)
   */
  public static Choice choose(Optional<String> setting, Optional<String> externalAddress, BooleanSupplier dockerAvailable) {
    TestBackend named = setting.map(TestBackend::parse).orElse(null);
    if (named == CONTAINERS && externalAddress.isPresent()) {
      throw new IllegalArgumentException(PROPERTY + "=containers and an external server (" + externalAddress.get()
          + ") are both set: remove one");
    }
    if (externalAddress.isPresent() || named == EXTERNAL) {
      if (externalAddress.isEmpty()) {
        throw new IllegalArgumentException(PROPERTY + "=external needs the server's address ("
            + PostgresExtension.JDBC_URL_PROPERTY + " / " + KafkaExtension.BOOTSTRAP_PROPERTY + ")");
      }
      return new Choice(EXTERNAL, null);
    }
    if (named == CONTAINERS) {
      return dockerAvailable.getAsBoolean() ? new Choice(CONTAINERS, null)
          : new Choice(CONTAINERS, PROPERTY + "=containers but no Docker engine is reachable here "
              + "(Testcontainers found none): the tests that need a server are skipped");
    }
    return new Choice(EMBEDDED, null);
  }

  /**
   * The extensions' execution condition: skips (never fails) what this choice cannot serve — every
   * test under {@code containers} without a Docker engine, and a test method that takes the
   * embedded server itself ({@code embeddedType}) on another backend.
   */
  static org.junit.jupiter.api.extension.ConditionEvaluationResult condition(Choice choice,
      org.junit.jupiter.api.extension.ExtensionContext context, Class<?> embeddedType) {
    if (choice.skipped()) {
      return org.junit.jupiter.api.extension.ConditionEvaluationResult.disabled(choice.skipReason());
    }
    boolean needsEmbedded = context.getTestMethod()
        .map(m -> java.util.Arrays.asList(m.getParameterTypes()).contains(embeddedType)).orElse(false);
    if (needsEmbedded && choice.backend() != EMBEDDED) {
      return org.junit.jupiter.api.extension.ConditionEvaluationResult.disabled("this test needs the "
          + embeddedType.getSimpleName() + " (it controls the server) but the tests run on the "
          + choice.backend().name().toLowerCase(Locale.ROOT) + " backend (" + PROPERTY + ")");
    }
    return org.junit.jupiter.api.extension.ConditionEvaluationResult.enabled("backend " + choice.backend());
  }

  static TestBackend parse(String name) {
    try {
      return valueOf(name.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown " + PROPERTY + " '" + name + "': use embedded, external or containers", e);
    }
  }

  /** The JVM's setting ({@value #PROPERTY} or {@value #ENV}). */
  static Optional<String> setting() {
    return TestOverrides.get(PROPERTY, ENV);
  }
}
