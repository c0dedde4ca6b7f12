package dev.shapeshift.coordinator.contract;

import dev.shapeshift.coordinator.contract.AccessReport.ReplicaEvidence;
import dev.shapeshift.coordinator.contract.AccessReport.Statement;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The old shape's readers on read replicas: {@code pg_stat_statements} deltas read there over
 * read-only connections, the snapshots stored through the primary's catalog connection (a replica
 * is read-only). Replicas are configured once per database in {@code shapeshift.replica}
 * ({@code shapeshift replica add NAME JDBC_URL}) and connected to with the primary's credentials:
 * a physical replica has the primary's roles.
 *
 * <p>As on the primary, the first look at a replica is its baseline and a statement whose calls
 * grew since the previous look was seen at this look. Shapeshift reads nothing of the old shape on
 * a replica, so every statement there that touches it is someone else's; its role is recorded as
 * a reader ({@code role export_job, from replica reporting}), with the client of a session sampled
 * in the replica's {@code pg_stat_activity}. A replica that cannot be read is a problem of the
 * evidence: the gate stays closed (its readers cannot be seen).
 */
final class ReplicaWatch {
    /** One configured replica. */
    record Replica(String name, String jdbcUrl) {
    }

    private record Seen(long userid, String role, long queryid, long calls, String query, String why) {
    }

    private record Session(String role, String app, String client, String query, Instant at) {
    }

    /** The stored watch of one replica for one migration. */
    private record Watched(Instant baseline, Instant statsReset) {
    }

    private ReplicaWatch() {
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    static List<Replica> configured(Connection c) throws SQLException {
        return Sql.list(c, "SELECT name, jdbc_url FROM shapeshift.replica ORDER BY name",
                rs -> new Replica(rs.getString(1), rs.getString(2)));
    }

    /** Adds (or re-points) a replica; refuses a URL that is not PostgreSQL's or that carries a password. */
    static void add(Connection c, String name, String jdbcUrl, String actor) throws SQLException {
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "replica name '" + name + "' is not a simple name: "
                    + "use letters, digits, '_', '.', '-' (e.g. reporting-1)");
        }
        new Database(jdbcUrl, null, null);
        if (jdbcUrl.toLowerCase(java.util.Locale.ROOT).contains("password=")) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "the replica URL carries a password: leave it out; "
                    + "Shapeshift connects to replicas with the primary's credentials (a physical replica has its roles)");
        }
        Sql.update(c, "INSERT INTO shapeshift.replica (name, jdbc_url, added_by) "
                + "VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET jdbc_url = EXCLUDED.jdbc_url, added_by = EXCLUDED.added_by, "
                + "added_at = now()", name, jdbcUrl, actor);
    }

    static boolean remove(Connection c, String name) throws SQLException {
        return Sql.update(c, "DELETE FROM shapeshift.replica WHERE name = ?", name) > 0;
    }

    /** Looks at one replica for one migration; never throws for a replica that cannot be read (it is reported). */
    static ReplicaEvidence look(Database primary, Replica replica, OldShape shape, ShapeMatcher matcher) {
        String url = Database.redact(replica.jdbcUrl());
        List<Seen> seen = new ArrayList<>();
        List<Session> sessions = new ArrayList<>();
        boolean inRecovery;
        Instant statsReset;
        Database at = new Database(replica.jdbcUrl(), primary.user(), primary.password());
        try (Connection r = at.connect("coordinator")) {
            r.setReadOnly(true);
            try (PreparedStatement ps = r.prepareStatement("SELECT pg_is_in_recovery(), "
                    + "EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                inRecovery = rs.getBoolean(1);
                if (!rs.getBoolean(2)) {
                    return new ReplicaEvidence(replica.name(), url, inRecovery, null, List.of(), "pg_stat_statements is "
                            + "not installed in this database on the replica's primary (CREATE EXTENSION pg_stat_statements)");
                }
            }
            statsReset = Sql.one(r, "SELECT stats_reset FROM pg_stat_statements_info", rs -> instant(rs.getTimestamp(1)));
            Sql.each(r, "SELECT s.userid, max(ro.rolname), s.queryid, sum(s.calls)::bigint, "
                    + "min(s.query) FROM pg_stat_statements s LEFT JOIN pg_roles ro ON ro.oid = s.userid "
                    + "WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                    + "AND s.queryid IS NOT NULL GROUP BY s.userid, s.queryid", rs -> {
                        Optional<String> why = matcher.match(rs.getString(5));
                        if (why.isPresent()) {
                            seen.add(new Seen(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getString(5), why.get()));
                        }
                    });
            sessions.addAll(Sql.list(r, "SELECT a.usename, coalesce(a.application_name, ''), "
                    + "coalesce(host(a.client_addr), CASE WHEN a.client_port = -1 THEN 'local' ELSE '' END), a.query, "
                    + "coalesce(a.query_start, a.backend_start) FROM pg_stat_activity a "
                    + "WHERE a.datname = current_database() AND a.backend_type = 'client backend' "
                    + "AND a.pid <> pg_backend_pid() AND a.usename IS NOT NULL AND a.query IS NOT NULL",
                    rs -> new Session(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getTimestamp(5).toInstant())).stream().filter(x -> matcher.match(x.query()).isPresent()).toList());
        } catch (SQLException | ShapeshiftException e) {
            return new ReplicaEvidence(replica.name(), url, null, null, List.of(), "cannot read the replica: "
                    + e.getMessage().strip() + " — its readers cannot be seen, so the gate stays closed (fix the "
                    + "connection, or `shapeshift replica remove " + replica.name() + "` if it is gone)");
        }
        return Tx.run(primary, AccessWatch.ROLE, "storing what replica " + replica.name() + " showed for " + shape.migration(),
                c -> store(c, replica, url, inRecovery, statsReset, shape, seen, sessions));
    }

    private static ReplicaEvidence store(Connection c, Replica replica, String url, boolean inRecovery, Instant statsReset,
                                         OldShape shape, List<Seen> seen, List<Session> sessions) throws SQLException {
        String migration = shape.migration();
        Instant now;
        now = Sql.one(c, "SELECT clock_timestamp()", rs -> rs.getTimestamp(1).toInstant());
        Watched watched = Sql.one(c, "SELECT baseline_at, stats_reset FROM shapeshift.contract_replica_watch "
                + "WHERE migration = ? AND replica = ? FOR UPDATE",
                rs -> new Watched(rs.getTimestamp(1).toInstant(), instant(rs.getTimestamp(2))), migration, replica.name());
        Instant baseline = watched == null ? null : watched.baseline();
        Instant storedReset = watched == null ? null : watched.statsReset();
        boolean first = baseline == null;
        boolean reset = !first && storedReset != null && !storedReset.equals(statsReset);
        if (first || reset) {
            baseline = now;   // a reset restarts the replica's watch, as it restarts the quiet period on the primary
        }
        Map<String, long[]> stored = new HashMap<>();
        Map<String, Instant> lastSeen = new HashMap<>();
        Sql.each(c, "SELECT userid, queryid, calls, calls_at_baseline, last_seen "
                + "FROM shapeshift.contract_replica_statement WHERE migration = ? AND replica = ?", rs -> {
                    String k = rs.getLong(1) + "/" + rs.getLong(2);
                    stored.put(k, new long[] {rs.getLong(3), rs.getLong(4)});
                    if (rs.getTimestamp(5) != null && !reset) {
                        lastSeen.put(k, rs.getTimestamp(5).toInstant());
                    }
                }, migration, replica.name());
        List<Statement> offenders = new ArrayList<>();
        for (Seen s : seen) {
            String k = s.userid() + "/" + s.queryid();
            long[] prev = reset ? null : stored.get(k);
            boolean grew = !first && !reset && (prev == null ? s.calls() > 0 : s.calls() != prev[0]);
            long atBaseline = prev != null ? Math.min(prev[1], s.calls()) : first || reset ? s.calls() : 0;
            Instant last = grew ? now : lastSeen.get(k);
            Sql.update(c, "INSERT INTO shapeshift.contract_replica_statement (migration, "
                    + "replica, userid, queryid, role_name, query, calls, calls_at_baseline, last_seen) "
                    + "VALUES (?, ?, ?::oid, ?, ?, ?, ?, ?, ?) ON CONFLICT (migration, replica, userid, queryid) DO UPDATE SET "
                    + "role_name = EXCLUDED.role_name, query = EXCLUDED.query, calls = EXCLUDED.calls, "
                    + "calls_at_baseline = EXCLUDED.calls_at_baseline, last_seen = EXCLUDED.last_seen",
                    migration, replica.name(), Long.toString(s.userid()), s.queryid(), s.role(), s.query(), s.calls(),
                    atBaseline, Sql.timestamp(last));
            if (last == null) {
                continue;
            }
            String role = s.role() == null ? "(dropped role)" : s.role();
            if (grew) {
                Readers.record(c, migration, role, "", "replica " + replica.name(), now, s.query());
            }
            if (!last.isBefore(now.minus(shape.quietPeriod()))) {
                offenders.add(new Statement(s.queryid(), role, s.query(), s.calls(), Math.max(0, s.calls() - atBaseline),
                        last, s.why() + " (replica " + replica.name() + ")"));
            }
        }
        for (Session s : sessions) {
            if (s.at().isAfter(baseline)) {
                Readers.record(c, migration, s.role(), s.app(), (s.client().isEmpty() ? "" : s.client() + " ")
                        + "on replica " + replica.name(), s.at(), s.query());
            }
        }
        Sql.update(c, "INSERT INTO shapeshift.contract_replica_watch (migration, replica, "
                + "baseline_at, evaluated_at, stats_reset) VALUES (?, ?, ?, ?, ?) ON CONFLICT (migration, replica) DO UPDATE "
                + "SET baseline_at = EXCLUDED.baseline_at, evaluated_at = EXCLUDED.evaluated_at, stats_reset = EXCLUDED.stats_reset",
                migration, replica.name(), baseline, now, Sql.timestamp(statsReset));
        offenders.sort(java.util.Comparator.comparing(Statement::lastSeen).reversed());
        return new ReplicaEvidence(replica.name(), url, inRecovery, baseline, offenders, null);
    }
}
