package dev.shapeshift.coordinator.contract;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read counter of an old table (table mode, docs/contract.md "Read counter"): from the write
 * switch until the contract, row-level security policies on the old table call
 * {@code shapeshift.count_access} once per statement and table reference (an uncorrelated
 * subquery, an InitPlan), which counts the statement by role, {@code application_name} and client
 * address per minute in {@code shapeshift.read_counter}. The policies always pass: applications
 * that still read or write the old table keep working, and so does Shapeshift's reverse sync.
 *
 * <p>Why policies and not a view in the table's place: the old table keeps its name, its OID and
 * its privileges, so the cdc-bridge's publication and Debezium's table list, the reverse sync's
 * SQL, the reconcile, the brownout's grants and the contract's archive move all keep working
 * unchanged, and installing or removing the counter is a catalog change of one table (no data is
 * moved, no statement of the application is rewritten). A view would be counted the same way but
 * would need every one of those to follow the renamed table.
 *
 * <p>Not counted: the table's owner when it is a superuser, superusers and roles with
 * {@code BYPASSRLS} (row-level security does not apply to them); statements in read-only
 * transactions (nothing can be written there); {@code TRUNCATE}; a statement that finds no row
 * (the counter runs for the first row the scan returns). The owner is counted:
 * {@code FORCE ROW LEVEL SECURITY} is set while counting.
 *
 * <p>Why one class of ~420 lines: installing, reading and removing the counter are one mechanism
 * whose removal must undo exactly what the install did (the policies, the grants, the table's
 * row-level security flags as they were), so the three stay side by side.
 */
public final class ReadCounter {
    private static final Logger log = LoggerFactory.getLogger(ReadCounter.class);
    /** Policy names on the old table; one per command, so a statement is counted by what it does. */
    static final String PREFIX = "shapeshift_count_";
    /** The commands the counter has a policy for: one per command, so each counts as a read or a write. */
    private static final List<String> POLICY_COMMANDS = List.of("select", "insert", "update", "delete");
    private static final String LOCK_TIMEOUT = "2s";

    private ReadCounter() {
    }

    /** The install row of a counter in place. */
    private record Installed(String schema, String table, boolean hadRls, boolean hadForce) {
    }

    /** One identity's counts since the counter was installed. */
    public record Counted(String role, String applicationName, String clientAddr, long reads, long writes,
                          Instant firstAt, Instant lastAt, boolean shapeshift) {
        /** {@code role export_job, application nightly-export, from 10.0.0.5}, for people. */
        public String identity() {
            return "role " + role + ", application " + (applicationName.isEmpty() ? "(none)" : applicationName)
                    + ", from " + clientAddr;
        }
    }

    /**
     * What the counter counted.
     *
     * @param table       the old table, {@code public.users}
     * @param installedAt when counting started (the write switch)
     * @param countingSince since when the counts are complete: {@code installedAt}, or later when they may have been
     *                    lost (the counter table is unlogged: a crash or a failover empties it)
     * @param lost        why counting restarted after the installation, for people; null when it did not
     * @param removedAt   when it stopped (the write switch undone, a rollback, the contract); null while counting
     * @param identities  every identity counted, the most recently seen first; {@link Counted#shapeshift()} marks Shapeshift's own
     */
    public record Evidence(String table, Instant installedAt, Instant countingSince, Instant removedAt, String removedWhy,
                           String lost, List<Counted> identities) {
        public Evidence {
            identities = List.copyOf(identities);
        }

        public List<Counted> others() {
            return identities.stream().filter(x -> !x.shapeshift()).toList();
        }
    }

    /**
     * Installs the counter on {@code schema.table} in the caller's transaction (the move to
     * {@code writes-switched}): records the table's row-level security state, grants the old
     * table's grantees EXECUTE on the counting function and USAGE on the catalog schema, creates
     * the four policies (permissive when the table had no row-level security; restrictive, so
     * that they add nothing to existing policies, when it had), and enables and forces row-level
     * security. The ALTERs wait at most {@value #LOCK_TIMEOUT} for the table's lock; a time-out
     * fails the whole move (retryable). Installing again (a second write switch) restarts counting.
     * When the role Shapeshift runs as does not own the table, or cannot give a grantee the right
     * to call the counter (so that grantee's reads would fail), nothing is installed: the switch
     * goes on, and the audit log says why.
     *
     * @return null when installed; else why not
     */
    public static String install(Connection c, String migration, String schema, String table) throws SQLException {
        String qualified = Ident.qualified(schema, table);
        boolean owner;
        boolean hadRls;
        boolean hadForce;
        Set<String> grantees = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT c.relrowsecurity, c.relforcerowsecurity, "
                + "pg_has_role(current_user, c.relowner, 'USAGE'), "
                + "pg_get_userbyid(c.relowner), ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
                + "ELSE pg_get_userbyid(a.grantee) END FROM (SELECT (aclexplode(c.relacl)).grantee UNION ALL "
                + "SELECT (aclexplode(t.attacl)).grantee FROM pg_attribute t WHERE t.attrelid = c.oid AND t.attacl IS NOT NULL) a) "
                + "FROM pg_class c WHERE c.oid = to_regclass(?)")) {
            ps.setString(1, qualified);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new ShapeshiftException(ErrorCode.NOT_FOUND, "the read counter of " + migration + " needs "
                            + qualified + ", which does not exist");
                }
                hadRls = rs.getBoolean(1);
                hadForce = rs.getBoolean(2);
                owner = rs.getBoolean(3);
                grantees.add(rs.getString(4));
                grantees.addAll(List.of((String[]) rs.getArray(5).getArray()));
            }
        }
        if (!owner) {
            return notInstalled(c, migration, qualified, "the role Shapeshift runs as does not own " + qualified
                    + " (row-level security needs the owner)");
        }
        Boolean stored = storedRls(c, migration);
        if (stored != null) {
            hadRls = stored; // counting already: the table's row-level security is ours, the state before is stored
        }
        boolean rlsBefore = hadRls;
        String refused = LockSafeDdl.briefly(c, LOCK_TIMEOUT, "the read counter could not be installed on " + qualified, cc -> {
            try (Statement s = cc.createStatement()) {
                s.execute("SAVEPOINT shapeshift_read_counter");
                for (String g : grantees) {
                    String to = "PUBLIC".equals(g) ? "PUBLIC" : Ident.quote(g);
                    s.execute("GRANT USAGE ON SCHEMA shapeshift TO " + to);
                    s.execute("GRANT EXECUTE ON FUNCTION shapeshift.count_access(text, text, name) TO " + to);
                }
                List<String> without = withoutAccess(c, grantees);
                if (!without.isEmpty()) {
                    // A GRANT the role may not give only warns; a grantee that cannot call the counter would
                    // have its reads of the old table refused. Install nothing.
                    s.execute("ROLLBACK TO SAVEPOINT shapeshift_read_counter");
                    return notInstalled(c, migration, qualified, "role(s) " + without + " could not be granted EXECUTE on "
                            + "shapeshift.count_access and USAGE on schema shapeshift (the role Shapeshift runs as needs "
                            + "to own them or hold the grant option); their reads of " + qualified + " would fail");
                }
                String as = rlsBefore ? " AS RESTRICTIVE" : "";
                for (String p : policies(migration, as)) {
                    s.execute(p.replace("%T", qualified));
                }
                s.execute("ALTER TABLE " + qualified + " ENABLE ROW LEVEL SECURITY");
                s.execute("ALTER TABLE " + qualified + " FORCE ROW LEVEL SECURITY");
            }
            return null;
        });
        if (refused != null) {
            return refused;
        }
        Sql.update(c, "INSERT INTO shapeshift.read_counter_install (migration, "
                + "table_schema, table_name, had_rls, had_force, installed_at, counting_since, counted_total) "
                + "VALUES (?, ?, ?, ?, ?, now(), now(), 0) "
                + "ON CONFLICT (migration) DO UPDATE SET installed_at = now(), counting_since = now(), counted_total = "
                + "(SELECT coalesce(sum(reads + writes), 0) FROM shapeshift.read_counter k WHERE k.migration = EXCLUDED.migration), "
                + "removed_at = NULL, removed_why = NULL, "
                + "had_rls = CASE WHEN read_counter_install.removed_at IS NULL THEN read_counter_install.had_rls ELSE EXCLUDED.had_rls END, "
                + "had_force = CASE WHEN read_counter_install.removed_at IS NULL THEN read_counter_install.had_force ELSE EXCLUDED.had_force END",
                migration, schema, table, hadRls, hadForce);
        Catalog.audit(c, migration, "coordinator", "read counter installed on " + schema + "." + table, null, null,
                "row-level security policies count every statement of others on the old table by role, "
                        + "application_name and client address until the contract (docs/contract.md)");
        log.info("read counter installed migration={} table={} grantees={}", migration, qualified, grantees);
        return null;
    }

    /** The grantees (named roles; PUBLIC through the ACLs) that cannot call the counting function. */
    private static List<String> withoutAccess(Connection c, Set<String> grantees) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT CASE WHEN ? = 'PUBLIC' THEN "
                + "EXISTS (SELECT 1 FROM aclexplode((SELECT proacl FROM pg_proc WHERE oid = "
                + "'shapeshift.count_access(text, text, name)'::regprocedure)) a WHERE a.grantee = 0) "
                + "AND EXISTS (SELECT 1 FROM aclexplode((SELECT nspacl FROM pg_namespace WHERE nspname = 'shapeshift')) a "
                + "WHERE a.grantee = 0) "
                + "ELSE has_function_privilege(?, 'shapeshift.count_access(text, text, name)', 'EXECUTE') "
                + "AND has_schema_privilege(?, 'shapeshift', 'USAGE') END")) {
            for (String g : grantees) {
                ps.setString(1, g);
                ps.setString(2, g);
                ps.setString(3, g);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        out.add(g);
                    }
                }
            }
        }
        return out;
    }

    /** Leaves the table as it is and says why, in the audit log and the log; returns the reason. */
    private static String notInstalled(Connection c, String migration, String table, String why) throws SQLException {
        Catalog.audit(c, migration, "coordinator", "read counter not installed on " + table, null, null, why
                + "; the contract evidence goes on without it (docs/contract.md, Read counter)");
        log.warn("read counter not installed migration={} table={} why={}", migration, table, why);
        return why;
    }

    /** The four policies; {@code %T} is the table. DROP … IF EXISTS first, so a second installation replaces them. */
    private static List<String> policies(String migration, String as) {
        String m = "'" + migration.replace("'", "''") + "'";
        String read = "((SELECT shapeshift.count_access(" + m + ", 'read', current_user)))";
        String write = "((SELECT shapeshift.count_access(" + m + ", 'write', current_user)))";
        List<String> out = new ArrayList<>();
        for (String cmd : POLICY_COMMANDS) {
            out.add("DROP POLICY IF EXISTS " + PREFIX + cmd + " ON %T");
        }
        out.add("CREATE POLICY " + PREFIX + "select ON %T" + as + " FOR SELECT USING " + read);
        out.add("CREATE POLICY " + PREFIX + "insert ON %T" + as + " FOR INSERT WITH CHECK " + write);
        out.add("CREATE POLICY " + PREFIX + "update ON %T" + as + " FOR UPDATE USING " + write + " WITH CHECK (true)");
        out.add("CREATE POLICY " + PREFIX + "delete ON %T" + as + " FOR DELETE USING " + write);
        return out;
    }

    /**
     * Removes the counter, when one is installed, in the caller's transaction: drops the policies
     * and puts the table's row-level security back as it was. The counts stay (the evidence keeps
     * showing them). The caller provides the lock safety (a {@code LockSafeDdl} transaction, or the
     * contract's).
     *
     * @return what it did, or null when no counter was installed
     */
    public static String remove(Connection c, String migration, String why) throws SQLException {
        Installed installed = Sql.one(c, "SELECT table_schema, table_name, had_rls, had_force "
                + "FROM shapeshift.read_counter_install WHERE migration = ? AND removed_at IS NULL FOR UPDATE",
                rs -> new Installed(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4)), migration);
        if (installed == null) {
            return null;
        }
        String schema = installed.schema();
        String table = installed.table();
        boolean hadRls = installed.hadRls();
        boolean hadForce = installed.hadForce();
        String qualified = Ident.qualified(schema, table);
        if (Sql.one(c, "SELECT to_regclass(?) IS NOT NULL", rs -> rs.getBoolean(1), qualified)) {
            try (Statement s = c.createStatement()) {
                for (String cmd : POLICY_COMMANDS) {
                    s.execute("DROP POLICY IF EXISTS " + PREFIX + cmd + " ON " + qualified);
                }
                s.execute("ALTER TABLE " + qualified + (hadRls ? " ENABLE" : " DISABLE") + " ROW LEVEL SECURITY");
                s.execute("ALTER TABLE " + qualified + (hadForce ? " FORCE" : " NO FORCE") + " ROW LEVEL SECURITY");
            }
        }
        Sql.update(c, "UPDATE shapeshift.read_counter_install SET removed_at = now(), removed_why = ? WHERE migration = ?",
                why, migration);
        String done = "read counter removed from " + schema + "." + table + " (" + why + ")";
        Catalog.audit(c, migration, "coordinator", done, null, null, "row-level security restored as it was: "
                + (hadRls ? "enabled" : "disabled") + (hadForce ? ", forced" : ""));
        log.info("read counter removed migration={} table={} why={}", migration, qualified, why);
        return done;
    }

    /** Removes the counter lock-safely ({@code LockSafeDdl}): short lock time-out, bounded retries, blockers named. */
    public static String remove(Database db, String migration, String why) {
        return Tx.ddl(db, Contractor.ROLE, "removing the read counter of " + migration, c -> remove(c, migration, why));
    }

    /** The row-level security state before a counter that is installed now; null when none is. */
    private static Boolean storedRls(Connection c, String migration) throws SQLException {
        return Sql.one(c, "SELECT had_rls FROM shapeshift.read_counter_install WHERE migration = ? AND removed_at IS NULL",
                rs -> rs.getBoolean(1), migration);
    }

    /**
     * The counts by identity, or null when the migration never had a counter. An identity is
     * Shapeshift's when its role is one of Shapeshift's ({@link Readers#shapeshiftRoles}) and its
     * session was named as Shapeshift names its sessions — the rule of the statement evidence.
     */
    static Evidence read(Connection c, String migration, Set<Long> shapeshiftRoles) throws SQLException {
        String table;
        Instant installedAt;
        Instant since;
        Instant removedAt;
        String removedWhy;
        long before;
        Instant serverStart;
        long total;
        try (PreparedStatement ps = c.prepareStatement("SELECT table_schema || '.' || table_name, installed_at, "
                + "counting_since, removed_at, removed_why, counted_total, pg_postmaster_start_time(), "
                + "(SELECT coalesce(sum(reads + writes), 0) FROM shapeshift.read_counter k WHERE k.migration = i.migration) "
                + "FROM shapeshift.read_counter_install i WHERE migration = ? FOR UPDATE")) {
            ps.setString(1, migration);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                table = rs.getString(1);
                installedAt = instant(rs.getTimestamp(2));
                since = instant(rs.getTimestamp(3));
                removedAt = instant(rs.getTimestamp(4));
                removedWhy = rs.getString(5);
                before = rs.getLong(6);
                serverStart = instant(rs.getTimestamp(7));
                total = rs.getLong(8);
            }
        }
        String lost = null;
        if (removedAt == null) {
            Instant restart = null;
            if (total < before) {
                restart = ReadCounter.now(c);
                lost = "the counter held " + before + " count(s) at the previous look and " + total + " now: the server "
                        + "crashed or failed over (the counter table is unlogged); counting restarts at " + restart;
            } else if (serverStart.isAfter(since)) {
                restart = serverStart;
                lost = "the server started at " + serverStart + ", after counting began: counts of a crash are lost "
                        + "(the counter table is unlogged); counting restarts there";
            }
            if (restart != null || total != before) {
                Sql.update(c, "UPDATE shapeshift.read_counter_install SET counted_total = ?, "
                        + "counting_since = coalesce(?, counting_since) WHERE migration = ?",
                        total, Sql.timestamp(restart), migration);
                since = restart == null ? since : restart;
            }
            if (lost != null) {
                Catalog.audit(c, migration, "coordinator", "read counter restarted", null, null, lost);
                log.warn("read counter restarted migration={} why={}", migration, lost);
            }
        }
        Evidence head = new Evidence(table, installedAt, since, removedAt, removedWhy,
                lost != null ? lost : since.isAfter(installedAt) ? "counting restarted at " + since
                        + " (counts may have been lost: the server crashed, failed over or restarted)" : null, List.of());
        List<Counted> out = Sql.list(c, "SELECT k.role_name, k.application_name, k.client_addr, "
                + "sum(k.reads)::bigint, sum(k.writes)::bigint, min(k.first_at), max(k.last_at), "
                + "bool_or(r.oid::bigint = ANY (?) AND (k.application_name LIKE 'shapeshift-%' "
                + "OR k.application_name LIKE 'Debezium %')) "
                + "FROM shapeshift.read_counter k LEFT JOIN pg_roles r ON r.rolname = k.role_name "
                + "WHERE k.migration = ? GROUP BY 1, 2, 3 ORDER BY max(k.last_at) DESC, 1, 2, 3",
                rs -> new Counted(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                        instant(rs.getTimestamp(6)), instant(rs.getTimestamp(7)), rs.getBoolean(8)),
                c.createArrayOf("bigint", shapeshiftRoles.toArray()), migration);
        return new Evidence(head.table(), head.installedAt(), head.countingSince(), head.removedAt(), head.removedWhy(),
                head.lost(), out);
    }

    /**
     * The identities of others whose counts close the gate: all of them, or, when the spec drops
     * nothing (the old table stays), only those that wrote it (reads of a table that stays are harmless).
     */
    static List<Counted> gated(Evidence e, boolean writesOnly) {
        return e.others().stream().filter(x -> !writesOnly || x.writes() > 0).toList();
    }

    /** Records every gated identity the counter saw as a reader of the old shape ({@link Readers}). */
    static void recordReaders(Connection c, String migration, Evidence e, boolean writesOnly) throws SQLException {
        for (Counted x : gated(e, writesOnly)) {
            Readers.record(c, migration, x.role(), x.applicationName(), x.clientAddr(), x.lastAt(),
                    "(read counter) " + x.reads() + " read(s), " + x.writes() + " write(s) of " + e.table()
                            + " since " + x.firstAt());
        }
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    private static Instant now(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        }
    }
}
