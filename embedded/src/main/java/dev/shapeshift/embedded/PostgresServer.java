package dev.shapeshift.embedded;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A PostgreSQL server tests can use: the {@link EmbeddedPostgres} or an external one
 * ({@link ExternalPostgres}). Connections are as a superuser.
 */
public interface PostgresServer {

  String host();

  int port();

  String user();

  String password();

  default String jdbcUrl(String database) {
    return "jdbc:postgresql://" + host() + ":" + port() + "/" + database;
  }

  default Connection connect(String database) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user());
    props.setProperty("password", password());
    return DriverManager.getConnection(jdbcUrl(database), props);
  }

  /**
   * Creates an empty database (from {@code template0}) named {@code <prefix>_<unique suffix>} and
   * returns the name. The prefix is lower-cased and reduced to {@code [a-z0-9_]}.
   */
  default String createDatabase(String prefix) {
    String name = DatabaseNames.unique(prefix);
    try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE \"" + name + "\" TEMPLATE template0 ENCODING 'UTF8'");
    } catch (SQLException e) {
      throw new EmbeddedServerException("CREATE DATABASE " + name + " failed: " + e.getMessage(), e);
    }
    return name;
  }

  /** Unique, always-safe database names. */
  final class DatabaseNames {
    private static final AtomicLong SEQ = new AtomicLong();

    private DatabaseNames() {}

    static String unique(String prefix) {
      String base = prefix == null ? "" : prefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
      if (base.isEmpty() || !Character.isLetter(base.charAt(0))) {
        base = "db_" + base;
      }
      if (base.length() > 40) {
        base = base.substring(0, 40);
      }
      String suffix = Long.toString(SEQ.incrementAndGet(), 36)
          + Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36 * 36), 36);
      return base + "_" + suffix;
    }
  }
}
