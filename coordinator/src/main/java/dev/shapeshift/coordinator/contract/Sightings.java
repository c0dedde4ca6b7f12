package dev.shapeshift.coordinator.contract;

import dev.shapeshift.db.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;


/**
 * The access watch's session attribution and its catalog table {@code shapeshift.contract_sighting}:
 * which roles and query ids were seen in Shapeshift's sessions and which in others, and from that
 * whether a {@code pg_stat_statements} statement is Shapeshift's own ({@link AccessWatch} explains
 * why the role comes first).
 */
final class Sightings {
    private Sightings() {}

    /**
     * A Shapeshift session: a session of one of Shapeshift's roles ({@link Readers#shapeshiftRoles})
     * named {@code shapeshift-*}, or one of the cdc-bridge's Debezium engine, which names each of its
     * connections itself, all {@code Debezium …} ({@code General}, {@code Streaming},
     * {@code Validate Connection} at every engine start, {@code Slot Info}, {@code Heartbeat},
     * {@code Drop Slot} in 3.6) and lets no configuration change that. The role comes first: an
     * application that connects through Shapeshift's connection factory (and so names its sessions
     * {@code shapeshift-*}) under its own role is someone else. Without the Debezium names a role
     * shared by the bridge and the other roles looked shared with an application, and the
     * coordinator's own reconcile reads of the old shape then counted as foreign access: the quiet
     * period never began (only General and Streaming were listed once; a validation connection
     * sampled on Debian PostgreSQL 15 under load closed the gate for good).
     */
    static final String OURS = "(" + Readers.SHAPESHIFT_NAMED + " AND a.usesysid::bigint = ANY (?))";

    /** Records which roles and query ids run in Shapeshift sessions and which in others, right now. */
    static void record(Connection c, String migration, long dbid, Set<Long> shapeshiftRoles) throws SQLException {
        String upsert = "INSERT INTO shapeshift.contract_sighting (migration, kind, id, by_shapeshift, by_other) "
                + "SELECT ?, kind, id, bool_or(ours), bool_or(NOT ours) FROM ("
                + "  SELECT 'role' AS kind, a.usesysid::bigint AS id, " + OURS + " AS ours "
                + "  FROM pg_stat_activity a WHERE a.datid = ? AND a.usesysid IS NOT NULL AND a.backend_type = 'client backend'"
                + "  UNION ALL SELECT 'query', a.query_id, " + OURS + " "
                + "  FROM pg_stat_activity a WHERE a.datid = ? AND a.query_id IS NOT NULL AND a.query_id <> 0 "
                + "  AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'"
                + "  UNION ALL SELECT 'role', r.oid::bigint, true FROM pg_roles r WHERE r.rolname = current_user"
                + ") s GROUP BY kind, id "
                + "ON CONFLICT (migration, kind, id) DO UPDATE SET "
                + "by_shapeshift = contract_sighting.by_shapeshift OR EXCLUDED.by_shapeshift, "
                + "by_other = contract_sighting.by_other OR EXCLUDED.by_other";
        try (PreparedStatement ps = c.prepareStatement(upsert)) {
            java.sql.Array roles = c.createArrayOf("bigint", shapeshiftRoles.toArray());
            ps.setString(1, migration);
            ps.setArray(2, roles);
            ps.setLong(3, dbid);
            ps.setArray(4, roles);
            ps.setLong(5, dbid);
            ps.executeUpdate();
        }
    }

    /**
     * Whether a statement is Shapeshift's: its role is one of Shapeshift's (first), and was seen in
     * Shapeshift's sessions (second); when that role also runs other sessions, only a query id
     * sampled in Shapeshift's sessions or {@linkplain dev.shapeshift.catalog.OwnQueries declared} and never sampled in others.
     */
    static boolean ours(Map<String, boolean[]> sightings, Set<Long> shapeshiftRoles, long userid, long queryid) {
        if (!shapeshiftRoles.contains(userid)) {
            return false;
        }
        boolean[] role = sightings.get("role/" + userid);
        if (role == null || !role[0]) {
            return false;
        }
        if (!role[1]) {
            return true;
        }
        boolean[] query = sightings.get("query/" + queryid);
        return query != null && query[0] && !query[1];
    }

    static Map<String, boolean[]> read(Connection c, String migration) throws SQLException {
        Map<String, boolean[]> out = new HashMap<>();
        Sql.each(c, "SELECT kind, id, by_shapeshift, by_other "
                + "FROM shapeshift.contract_sighting WHERE migration = ?", rs -> {
                out.put(rs.getString(1) + "/" + rs.getLong(2), new boolean[] {rs.getBoolean(3), rs.getBoolean(4)});
            }, migration);
        return out;
    }

    static String exclusion(Connection c, Map<String, boolean[]> sightings, Set<Long> shapeshiftRoles)
            throws SQLException {
        TreeSet<String> own = new TreeSet<>();
        TreeSet<String> shared = new TreeSet<>();
        TreeSet<String> borrowed = new TreeSet<>();
        for (Map.Entry<String, boolean[]> e : sightings.entrySet()) {
            if (!e.getKey().startsWith("role/")) {
                continue;
            }
            long oid = Long.parseLong(e.getKey().substring(5));
            if (!shapeshiftRoles.contains(oid)) {
                continue;
            }
            if (e.getValue()[0]) {
                (e.getValue()[1] ? shared : own).add(roleName(c, oid));
            }
        }
        borrowed.addAll(Sql.list(c, "SELECT DISTINCT a.usename FROM pg_stat_activity a WHERE "
                + Readers.SHAPESHIFT_NAMED + " AND a.usename IS NOT NULL AND NOT (a.usesysid::bigint = ANY (?))",
                rs -> rs.getString(1), c.createArrayOf("bigint", shapeshiftRoles.toArray())));
        StringBuilder sb = new StringBuilder("by role first: statements of ").append(own.isEmpty() ? "no role" : own)
                .append(" (Shapeshift's roles: they may write its catalog; seen only in shapeshift-* sessions) are Shapeshift's");
        if (!shared.isEmpty()) {
            sb.append("; role(s) ").append(shared).append(" also run other sessions, so their statements count as "
                    + "Shapeshift's only when sampled in shapeshift-* sessions (give Shapeshift its own role)");
        }
        if (!borrowed.isEmpty()) {
            sb.append("; role(s) ").append(borrowed).append(" name sessions shapeshift-* but are not Shapeshift's "
                    + "(no catalog privileges): counted as others");
        }
        return sb.toString();
    }

    static String roleName(Connection c, long oid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT rolname FROM pg_roles WHERE oid = ?")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : "oid " + oid;
            }
        }
    }
}
