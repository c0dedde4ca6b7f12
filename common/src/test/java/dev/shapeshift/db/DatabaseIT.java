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
}
