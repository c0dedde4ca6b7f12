package dev.shapeshift.embedded;

import java.net.URI;

/**
 * A PostgreSQL server someone else runs, described by host, port and superuser credentials.
 * The server must allow {@code CREATE DATABASE} and, for CDC tests, {@code wal_level=logical}.
 */
public record ExternalPostgres(String host, int port, String user, String password)
    implements PostgresServer {

  public ExternalPostgres {
    if (host == null || host.isBlank() || port <= 0 || port > 65535 || user == null) {
      throw new IllegalArgumentException("external postgres needs host, port 1..65535 and user");
    }
    password = password == null ? "" : password;
  }

  /** From a URL like {@code jdbc:postgresql://db.example:5432/anything}; the database is ignored. */
  public static ExternalPostgres fromJdbcUrl(String jdbcUrl, String user, String password) {
    if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql://")) {
      throw new IllegalArgumentException(
          "expected jdbc:postgresql://host[:port]/database, got " + jdbcUrl);
    }
    URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
    return new ExternalPostgres(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), user, password);
  }

  @Override
  public String toString() {
    return "ExternalPostgres[" + host + ":" + port + " user=" + user + "]";
  }
}
