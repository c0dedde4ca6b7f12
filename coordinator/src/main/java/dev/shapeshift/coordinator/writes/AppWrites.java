package dev.shapeshift.coordinator.writes;

import dev.shapeshift.db.Transactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The application's writing statements on a table, from pg_stat_statements: INSERT, UPDATE and
 * WITH statements in this database by a role other than the one Shapeshift connects as, that name
 * the table. The write switch's evidence filters them by the columns they name.
 */
public final class AppWrites {
    private AppWrites() {
    }

    /** One statement as pg_stat_statements counts it; {@code query} with white space folded. */
    public record Statement(long queryid, String role, String query, long calls) {
        /** Whether the statement text names {@code column} as a word (quoted or not). */
        public boolean names(String column) {
            return word(column).matcher(query.toLowerCase(Locale.ROOT)).find();
        }
    }

    /**
     * The statements that name {@code table}, most called first; null when pg_stat_statements cannot
     * be read (not installed, or no privilege). Inside a transaction the failed read is rolled back
     * to a savepoint, so the caller's transaction stays usable.
     */
    public static List<Statement> on(Connection c, String table) throws SQLException {
        Pattern t = word(table);
        try {
            return Transactions.contained(c, conn -> {
                List<Statement> out = new ArrayList<>();
                try (PreparedStatement ps = conn.prepareStatement("SELECT s.queryid, r.rolname, s.query, s.calls FROM "
                        + "pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid WHERE s.dbid = (SELECT oid FROM pg_database "
                        + "WHERE datname = current_database()) AND r.rolname <> current_user "
                        + "AND s.query ~* '^\\s*(insert|update|with)\\M' ORDER BY s.calls DESC LIMIT 1000");
                     ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String q = rs.getString(3);
                        if (t.matcher(q.toLowerCase(Locale.ROOT)).find()) {
                            out.add(new Statement(rs.getLong(1), rs.getString(2), q.replaceAll("\\s+", " ").strip(), rs.getLong(4)));
                        }
                    }
                }
                return out;
            });
        } catch (SQLException e) {
            return null;
        }
    }

    static Pattern word(String name) {
        return Pattern.compile("(?<![a-z0-9_$])\"?" + Pattern.quote(name.toLowerCase(Locale.ROOT)) + "\"?(?![a-z0-9_$])");
    }
}
