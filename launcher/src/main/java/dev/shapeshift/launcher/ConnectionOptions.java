package dev.shapeshift.launcher;

import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * How to reach the source database for the commands that may also run without one (validate,
 * plan): the options of {@link DbOptions}, plus an embedded server; none configured is not an
 * error here. Passwords are read from a file or the environment, never from the command line,
 * and never printed; URLs are shown without their password parameter.
 */
public final class ConnectionOptions extends DbOptions {
    @Option(names = "--embedded", description = "Use an embedded PostgreSQL (database 'postgres'); with --embedded-data-dir an existing one.")
    boolean embedded;

    @Option(names = "--embedded-data-dir", paramLabel = "DIR", description = "Data directory of the embedded PostgreSQL (default: a new temporary one).")
    Path embeddedDataDir;

    /** An open connection, or null when no database is configured. */
    public Source open() {
        if (embedded) {
            EmbeddedPostgres.Options o = EmbeddedPostgres.Options.defaults();
            EmbeddedPostgres pg = EmbeddedPostgres.start(embeddedDataDir == null ? o : o.withDataDir(embeddedDataDir));
            try {
                return new Source(pg.connect("postgres"), redact(pg.jdbcUrl("postgres")), pg);
            } catch (SQLException e) {
                pg.close();
                throw unreachable(pg.jdbcUrl("postgres"), e);
            }
        }
        String url = jdbcUrl;
        if (url == null || url.isBlank()) {
            return null;
        }
        Properties props = new Properties();
        if (user != null) {
            props.setProperty("user", user);
        }
        String password = password().orElse(null);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", "10");
        props.setProperty("ApplicationName", "shapeshift-cli");
        props.setProperty("assumeMinServerVersion", dev.shapeshift.db.Database.ASSUME_MIN_SERVER_VERSION);
        try {
            return new Source(DriverManager.getConnection(url, props), redact(url), null);
        } catch (SQLException e) {
            throw unreachable(url, e);
        }
    }

    private static ShapeshiftException unreachable(String url, SQLException e) {
        return new ShapeshiftException(ErrorCode.UNREACHABLE, "cannot connect to " + redact(url) + ": "
                + redact(String.valueOf(e.getMessage())) + " (SQLState " + e.getSQLState() + ")"
                + " — check the URL, the user, the password and that the server is running", e);
    }

    /** The URL with any {@code password=} parameter masked. */
    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&;\\s]*", "$1***").replaceAll("(//[^/:@]+:)[^/@]+@", "$1***@");
    }

    /** An open source connection; closing it also stops an embedded server. */
    public record Source(Connection connection, String displayUrl, EmbeddedPostgres embedded) implements AutoCloseable {
        @Override
        public void close() {
            try {
                connection.close();
            } catch (SQLException e) {
                // closing a connection we are done with; nothing to do
            } finally {
                if (embedded != null) {
                    embedded.close();
                }
            }
        }
    }
}
