package dev.shapeshift.launcher;

import dev.shapeshift.embedded.PostgresServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;

/**
 * A test database as the CLI reaches it: the connection options a user types (the password in a
 * file, never on the command line) and set-up statements run as the superuser.
 */
final class CliDb {
    private CliDb() {
    }

    /** {@code --jdbc-url}, {@code --user} and {@code --password-file} (written into {@code dir}) of {@code user} on {@code db}. */
    static String[] conn(PostgresServer pg, String db, String user, String password, Path dir) throws IOException {
        Path pw = Files.writeString(dir.resolve("pw-" + user), password);
        return new String[] {"--jdbc-url", pg.jdbcUrl(db), "--user", user, "--password-file", pw.toString()};
    }

    /** The connection options of the superuser on {@code db}. */
    static String[] conn(PostgresServer pg, String db, Path dir) throws IOException {
        return conn(pg, db, pg.user(), pg.password(), dir);
    }

    /** Runs {@code statements} on {@code db} as the superuser, in order. */
    static void sql(PostgresServer pg, String db, String... statements) throws SQLException {
        try (Connection c = pg.connect(db); Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    /** The command line: {@code command}, then the connection options. */
    static String[] line(String[] conn, String... command) {
        String[] out = Arrays.copyOf(command, command.length + conn.length);
        System.arraycopy(conn, 0, out, command.length, conn.length);
        return out;
    }
}
