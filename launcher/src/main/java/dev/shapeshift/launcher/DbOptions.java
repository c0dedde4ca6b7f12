package dev.shapeshift.launcher;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The source database of the commands that work on the catalog. Like every option, these also
 * come from the environment ({@code SHAPESHIFT_JDBC_URL}, {@code SHAPESHIFT_DB_USER},
 * {@code SHAPESHIFT_PASSWORD_FILE}) or the configuration file ({@link ConfigDefaults}). There is no
 * password option: command lines are visible to other users of the machine; the password comes
 * from {@code --password-file} or the environment variable {@code SHAPESHIFT_DB_PASSWORD}.
 */
class DbOptions {
    @Option(names = "--jdbc-url", paramLabel = "URL", description = "JDBC URL of the source database (env SHAPESHIFT_JDBC_URL).")
    String jdbcUrl;

    @Option(names = {"--db-user", "--user"}, paramLabel = "USER", description = "Database user (env SHAPESHIFT_DB_USER; "
            + "default: the OS user).")
    String user;

    @Option(names = "--password-file", paramLabel = "FILE", description = "File holding the password (else env SHAPESHIFT_DB_PASSWORD).")
    Path passwordFile;

    Map<String, String> env = System.getenv();

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    Database database() {
        String url = jdbcUrl;
        if (url == null || url.isBlank()) {
            String message = "Missing required option: '--jdbc-url=URL' (or set SHAPESHIFT_JDBC_URL): this command works on "
                    + "the catalog in the source database";
            throw mixee != null ? new ParameterException(mixee.commandLine(), message)
                    : new ShapeshiftException(ErrorCode.USAGE, message);
        }
        String u = user != null ? user : System.getProperty("user.name");
        return new Database(url, u, password().orElse(""));
    }

    Catalog catalog() {
        return new Catalog(database(), "cli");
    }

    /** The password: {@code --password-file}, else {@code SHAPESHIFT_DB_PASSWORD} ({@link Secrets}). */
    java.util.Optional<String> password() {
        return Secrets.fileOrEnv(passwordFile, env, "SHAPESHIFT_DB_PASSWORD");
    }
}
