package dev.shapeshift.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class DatabaseIT {

    @Test
    void aWorkerSessionHasItsIdleInTransactionLimitFromTheStartAndNamesItsRole(PostgresServer pg) throws SQLException {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase("dbit")), pg.user(), pg.password());
        try (Connection c = db.connect("worker", Duration.ofMillis(4500)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('idle_in_transaction_session_timeout'), "
                     + "current_setting('application_name')")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("4500ms");
            assertThat(rs.getString(2)).isEqualTo("shapeshift-worker");
        }
        try (Connection c = db.connect("cli"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('idle_in_transaction_session_timeout')")) {
            rs.next();
            assertThat(rs.getString(1)).as("other sessions keep the server's default").isEqualTo("0");
        }
    }

    /**
     * Shapeshift's sessions carry their name from the first moment (in the start-up packet): the
     * contract gate samples pg_stat_activity, and a session briefly without its name made
     * Shapeshift's role look shared with an application. With the driver's default the name comes
     * by a SET after connecting, which pg_stat_statements records: the control below shows it does.
     */
    @Test
    void sessionsAreNamedInTheStartupPacketNotByALaterSet(PostgresServer pg) throws SQLException {
        String database = pg.createDatabase("dbname");
        String role = "named_" + Long.toHexString(System.nanoTime());
        try (Connection admin = pg.connect(database); Statement s = admin.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            s.execute("CREATE ROLE " + role + " LOGIN PASSWORD 'pw'");
        }
        Database db = new Database(pg.jdbcUrl(database), role, "pw");
        db.connect("worker").close();
        db.connect("worker", Duration.ofSeconds(5)).close();
        CatalogPool.connect(db, "named-it").close();
        assertThat(laterSets(pg, database, role)).as("SET application_name sent by Shapeshift's connections").isZero();

        java.util.Properties plain = new java.util.Properties();
        plain.setProperty("user", role);
        plain.setProperty("password", "pw");
        plain.setProperty("ApplicationName", "driver-default");
        java.sql.DriverManager.getConnection(pg.jdbcUrl(database), plain).close();
        assertThat(laterSets(pg, database, role)).as("control: the driver's default sends a SET").isEqualTo(1);
    }

    private static long laterSets(PostgresServer pg, String database, String role) throws SQLException {
        try (Connection admin = pg.connect(database); Statement s = admin.createStatement();
             ResultSet rs = s.executeQuery("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements p "
                     + "JOIN pg_roles r ON r.oid = p.userid WHERE r.rolname = '" + role + "' "
                     + "AND p.query ILIKE 'SET application_name%'")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
