package dev.shapeshift.coordinator.contract;

import dev.shapeshift.coordinator.contract.AccessReport.Reader;
import dev.shapeshift.db.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Who reads or writes the old shape, by identity, and when last — kept across looks in
 * {@code shapeshift.contract_reader}, so that a reader that runs once a night is still visible in
 * the morning. Two sources:
 *
 * <ul>
 *   <li><b>sessions</b>: every look samples {@code pg_stat_activity}; a session of someone else
 *       whose current or last statement ({@code query}, its real text) touches the old shape is
 *       recorded by role, {@code application_name} and client address, dated at its
 *       {@code query_start}. An idle session still shows its last statement, so a job that keeps
 *       its connection is seen long after it ran; one that disconnects is seen only when a look
 *       falls inside its run.</li>
 *   <li><b>statements</b>: a statement of someone else in {@code pg_stat_statements} whose calls
 *       grew is recorded by role only (application name and address empty: the view does not
 *       keep them), dated at the look that saw it grow.</li>
 * </ul>
 *
 * <p>Shapeshift's own identity rests on its role first ({@link #shapeshiftRoles}); its
 * {@code application_name} is only the second signal.
 */
final class Readers {
    private static final int QUERY_CHARS = 500;

    /** The sessions Shapeshift names: {@code shapeshift-*}, and the two the bridge's Debezium engine names itself. */
    static final String SHAPESHIFT_NAMED = "(a.application_name LIKE 'shapeshift-%' "
            + "OR a.application_name LIKE 'Debezium %')";

    private Readers() {
    }

    /**
     * Shapeshift's roles: the role this look connects as, the owner of the catalog schema, and any
     * role that may write the catalog ({@code UPDATE} on {@code shapeshift.migration} or
     * {@code shapeshift.sync_stream}, {@code INSERT} on {@code shapeshift.heartbeat}: the
     * coordinator, the workers, the bridge). An application has no business writing Shapeshift's
     * catalog, so it cannot borrow this identity by naming its sessions {@code shapeshift-*}. A
     * superuser passes every privilege check and counts as Shapeshift's.
     */
    static Set<Long> shapeshiftRoles(Connection c) throws SQLException {
        return new HashSet<>(Sql.list(c, "SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user "
                + "OR r.oid = (SELECT nspowner FROM pg_namespace WHERE nspname = 'shapeshift') "
                + "OR has_table_privilege(r.oid, 'shapeshift.migration', 'UPDATE') "
                + "OR has_table_privilege(r.oid, 'shapeshift.sync_stream', 'UPDATE') "
                + "OR has_table_privilege(r.oid, 'shapeshift.heartbeat', 'INSERT')", rs -> rs.getLong(1)));
    }

    /** Records the sessions of others whose current or last statement touches the old shape; returns the newest such start. */
    static Instant fromSessions(Connection c, String migration, long dbid, ShapeMatcher matcher, Set<Long> shapeshiftRoles)
            throws SQLException {
        Instant newest = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT a.usesysid, a.usename, coalesce(a.application_name, ''), "
                + "coalesce(host(a.client_addr), CASE WHEN a.client_port = -1 THEN 'local' ELSE '' END), a.query, "
                + "coalesce(a.query_start, a.backend_start), " + SHAPESHIFT_NAMED + " "
                + "FROM pg_stat_activity a WHERE a.datid = ? AND a.backend_type = 'client backend' "
                + "AND a.pid <> pg_backend_pid() AND a.usesysid IS NOT NULL AND a.query IS NOT NULL")) {
            ps.setLong(1, dbid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    boolean ours = shapeshiftRoles.contains(rs.getLong(1)) && rs.getBoolean(7);
                    String query = rs.getString(5);
                    if (ours || matcher.match(query).isEmpty()) {
                        continue;
                    }
                    Instant at = rs.getTimestamp(6).toInstant();
                    record(c, migration, rs.getString(2), rs.getString(3), rs.getString(4), at, query);
                    newest = newest == null || at.isAfter(newest) ? at : newest;
                }
            }
        }
        return newest;
    }

    /** Records a statement of others seen in {@code pg_stat_statements}: its role only. */
    static void fromStatement(Connection c, String migration, String role, Instant seen, String query) throws SQLException {
        record(c, migration, role == null ? "(dropped role)" : role, "", "", seen, query);
    }

    static void record(Connection c, String migration, String role, String app, String addr, Instant at,
                               String query) throws SQLException {
        String q = query.replaceAll("\\s+", " ").strip();
        Sql.update(c, "INSERT INTO shapeshift.contract_reader (migration, role_name, "
                + "application_name, client_addr, first_seen, last_seen, last_query) VALUES (?, ?, ?, ?, ?, ?, ?) "
                + "ON CONFLICT (migration, role_name, application_name, client_addr) DO UPDATE SET "
                + "first_seen = least(contract_reader.first_seen, EXCLUDED.first_seen), "
                + "last_query = CASE WHEN EXCLUDED.last_seen >= contract_reader.last_seen THEN EXCLUDED.last_query "
                + "ELSE contract_reader.last_query END, "
                + "last_seen = greatest(contract_reader.last_seen, EXCLUDED.last_seen)",
                migration, role, app, addr, at, at, q.length() > QUERY_CHARS ? q.substring(0, QUERY_CHARS - 3) + "..." : q);
    }

    /** Every identity recorded for the migration, the most recently seen first. */
    static List<Reader> read(Connection c, String migration) throws SQLException {
        return Sql.list(c, "SELECT role_name, application_name, client_addr, first_seen, "
                + "last_seen, last_query FROM shapeshift.contract_reader WHERE migration = ? ORDER BY last_seen DESC, role_name",
                rs -> new Reader(rs.getString(1), emptyToNull(rs.getString(2)), emptyToNull(rs.getString(3)),
                        rs.getTimestamp(4).toInstant(), rs.getTimestamp(5).toInstant(), rs.getString(6)), migration);
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
