package dev.shapeshift.launcher.demo;

import dev.shapeshift.db.Database;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * The demo's applications ({@link AppLoad}, {@link NightlyExport}) connect as any application
 * would: the plain JDBC driver, their own role and {@code application_name}, not Shapeshift's
 * connection factory (which names every session {@code shapeshift-*}).
 */
final class AppConnection {
    private AppConnection() {
    }

    /** A connection as {@code db}'s user, named {@code applicationName}. */
    static Connection open(Database db, String applicationName) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", db.user());
        p.setProperty("password", db.password());
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection(db.jdbcUrl(), p);
    }

    /** Closes {@code c} if there is one; a broken connection is closed already. */
    static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the connection is broken already
            }
        }
    }
}
