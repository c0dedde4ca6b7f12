package dev.shapeshift.spec;

import dev.shapeshift.db.Sql;
import dev.shapeshift.spec.PrivilegeFinding.Severity;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The privileges each step of a migration needs, checked for the role of the given connection
 * (docs/deployment.md, "Privileges"). Read-only: it asks PostgreSQL's privilege functions
 * ({@code has_table_privilege}, {@code pg_has_role}, …) with bind parameters and changes nothing.
 *
 * <p>Errors are privileges a step run by this role is certain to need (expand, backfill, sync);
 * warnings are those of steps that may run as another role (the cdc-bridge's REPLICATION and
 * publication) or only at the end (the contract's evidence in {@code pg_stat_statements}).
 */
public final class Privileges {
    private final Connection c;
    private final MigrationSpec spec;
    private final List<PrivilegeFinding> findings = new ArrayList<>();
    private String role;

    private Privileges(MigrationSpec spec, Connection c) {
        this.spec = spec;
        this.c = c;
    }

    /** The findings for a spec whose live checks passed (its tables exist); empty for a superuser. */
    public static List<PrivilegeFinding> check(MigrationSpec spec, Connection c) {
        try {
            return new Privileges(spec, c).run();
        } catch (SQLException e) {
            throw dev.shapeshift.db.SqlStates.translate("checking the privileges of migration " + spec.name(), e);
        }
    }

    /**
     * The validation with the privilege errors added as problems (an invalid validation stays as
     * it is: its tables may not exist, so privileges cannot be judged yet).
     */
    public static Validation withErrors(Validation v, List<PrivilegeFinding> findings) {
        List<SpecProblem> errors = findings.stream().filter(f -> f.severity() == Severity.ERROR)
                .map(PrivilegeFinding::problem).toList();
        if (errors.isEmpty() || !v.valid()) {
            return v;
        }
        return new Validation(v.spec(), errors, v.live(), null, v.expand());
    }

    private List<PrivilegeFinding> run() throws SQLException {
        RoleInfo r = roleInfo();
        role = r.name;
        if (r.superuser) {
            return List.of();
        }
        Source s = spec.source();
        Optional<TableInfo> source = table(s.schema(), s.table());
        if (source.isEmpty()) {
            return List.of();
        }
        TableInfo src = source.get();
        String srcName = Ident.qualified(s.schema(), s.table());
        if (!schemaPrivilege(s.schema(), "USAGE")) {
            error("backfill", "source.schema", "role " + role + " may not use schema " + s.schema()
                    + ": every step reads the source table in it", "GRANT USAGE ON SCHEMA " + Ident.quote(s.schema()) + " TO " + quotedRole() + ";");
        }
        if (!src.select) {
            error("backfill", "source.table", "role " + role + " may not SELECT from " + srcName
                    + ": backfill, sync and reconcile read it", "GRANT SELECT ON TABLE " + srcName + " TO " + quotedRole() + ";");
        }
        if (spec.mode() == Mode.IN_PLACE) {
            if (!src.owned) {
                error("expand", "mode", "role " + role + " does not own " + srcName + " (owner: " + src.owner
                        + "): in-place mode adds the new columns with ALTER TABLE (and the contract drops the old ones)",
                        ownership(srcName, src));
            }
            if (!src.update) {
                error("backfill", "target.columns", "role " + role + " may not UPDATE " + srcName
                        + ": in-place mode writes the new columns with UPDATE", "GRANT UPDATE ON TABLE " + srcName + " TO " + quotedRole() + ";");
            }
        } else if (spec.mode() == Mode.SINK) {
            if (!src.update) {
                error("sync", "source.table", "role " + role + " may not UPDATE " + srcName + ": a sink refresh reads the "
                        + "source rows FOR SHARE (row locks need UPDATE privilege in PostgreSQL)",
                        "GRANT UPDATE ON TABLE " + srcName + " TO " + quotedRole() + ";");
            }
        } else {
            tableMode(src, srcName);
        }
        bridgeAndContract(r, src, srcName);
        return List.copyOf(findings);
    }

    private void tableMode(TableInfo src, String srcName) throws SQLException {
        String targetName = Ident.qualified(spec.targetSchema(), spec.targetTable());
        Optional<TableInfo> target = table(spec.targetSchema(), spec.targetTable());
        if (target.isEmpty()) {
            if (!schemaPrivilege(spec.targetSchema(), "CREATE")) {
                error("expand", "target.schema", "role " + role + " may not CREATE in schema " + spec.targetSchema()
                        + ": table mode creates the new table " + targetName + " there",
                        "GRANT CREATE ON SCHEMA " + Ident.quote(spec.targetSchema()) + " TO " + quotedRole() + ";");
            }
        } else {
            TableInfo t = target.get();
            List<String> missing = new ArrayList<>();
            for (String p : List.of("SELECT", "INSERT", "UPDATE", "DELETE")) {
                if (!t.has(p)) {
                    missing.add(p);
                }
            }
            if (!missing.isEmpty()) {
                error("backfill", "target.table", "role " + role + " lacks " + String.join(", ", missing) + " on the existing "
                        + targetName + ": backfill, sync and repair write it", "GRANT " + String.join(", ", missing)
                        + " ON TABLE " + targetName + " TO " + quotedRole() + ";");
            }
        }
        if (!src.update) {
            error("sync", "source.table", "role " + role + " may not UPDATE " + srcName + ": a key refresh reads the "
                    + "source rows FOR SHARE (row locks need UPDATE privilege in PostgreSQL)",
                    "GRANT UPDATE ON TABLE " + srcName + " TO " + quotedRole() + ";");
        }
    }

    private void bridgeAndContract(RoleInfo r, TableInfo src, String srcName) {
        if (!r.replication) {
            warning("cdc-bridge", "source.table", "role " + role + " has no REPLICATION attribute: a cdc-bridge connecting "
                    + "as this role cannot create or stream from the replication slot",
                    "ALTER ROLE " + quotedRole() + " REPLICATION;  (managed services: GRANT rds_replication TO " + quotedRole() + ";)");
        }
        if (spec.mode() == Mode.TABLE && !src.owned) {
            warning("cdc-bridge", "source.table", "role " + role + " does not own " + srcName + " (owner: " + src.owner
                    + "): a cdc-bridge connecting as this role cannot add it to its publication, and the contract "
                    + "cannot archive and drop it", ownership(srcName, src));
        }
        if (!r.statStatements) {
            warning("contract", "contract", "the extension pg_stat_statements is not installed in this database: the "
                    + "contract gate has no evidence that nothing uses the old shape",
                    "CREATE EXTENSION pg_stat_statements;  (as a superuser, with shared_preload_libraries = pg_stat_statements)");
        }
        if (!r.readAllStats) {
            warning("contract", "contract", "role " + role + " is not a member of pg_read_all_stats: other roles' "
                    + "statements in pg_stat_statements are hidden from it, so the contract gate has no evidence",
                    "GRANT pg_read_all_stats TO " + quotedRole() + ";");
        }
        if (spec.contract().brownout() != null) {
            if (!src.owned && !r.superuser) {
                warning("brownout", "contract.brownout", "role " + role + " does not own " + srcName + " (owner: "
                        + src.owner + "): the brownout cannot REVOKE and GRANT the application roles' access",
                        ownership(srcName, src));
            }
            if (!r.readsServerLog) {
                warning("brownout", "contract.brownout", "role " + role + " cannot read the server's log files: the "
                        + "brownout cannot name who failed during its window",
                        "GRANT pg_monitor, pg_read_server_files TO " + quotedRole() + ";");
            }
            if (!r.csvLog) {
                warning("brownout", "contract.brownout", "the server writes no CSV log: the brownout cannot name who "
                        + "failed during its window", "ALTER SYSTEM SET log_destination = 'stderr,csvlog'; ALTER SYSTEM "
                        + "SET logging_collector = on;  (logging_collector needs a restart)");
            }
        }
    }

    /** Make the role the owner; or, when the owner is an ordinary role, make the role a member of it. */
    private String ownership(String table, TableInfo t) {
        String alter = "ALTER TABLE " + table + " OWNER TO " + quotedRole() + ";";
        return t.ownerIsSuperuser ? alter : alter + "  (or keep the owner: GRANT " + Ident.quote(t.owner) + " TO " + quotedRole() + ";)";
    }

    private record RoleInfo(String name, boolean superuser, boolean replication, boolean readAllStats, boolean statStatements,
                            boolean readsServerLog, boolean csvLog) {
    }

    private record TableInfo(String owner, boolean ownerIsSuperuser, boolean owned, boolean select, boolean insert, boolean update, boolean delete) {
        boolean has(String privilege) {
            return switch (privilege) {
                case "SELECT" -> select;
                case "INSERT" -> insert;
                case "UPDATE" -> update;
                default -> delete;
            };
        }
    }

    private RoleInfo roleInfo() throws SQLException {
        return Sql.one(c, "SELECT r.rolname, r.rolsuper, r.rolreplication OR EXISTS ("
                + "SELECT 1 FROM pg_roles x WHERE x.rolname = 'rds_replication' AND pg_has_role(r.oid, x.oid, 'MEMBER')), "
                + "pg_has_role(r.oid, 'pg_read_all_stats', 'USAGE'), "
                + "EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'), "
                + "r.rolsuper OR (pg_has_role(r.oid, 'pg_monitor', 'USAGE') AND pg_has_role(r.oid, 'pg_read_server_files', 'USAGE')), "
                + "current_setting('log_destination') LIKE '%csvlog%' AND current_setting('logging_collector') = 'on' "
                + "FROM pg_roles r WHERE r.rolname = current_user",
                rs -> new RoleInfo(rs.getString(1), rs.getBoolean(2), rs.getBoolean(3), rs.getBoolean(4), rs.getBoolean(5),
                        rs.getBoolean(6), rs.getBoolean(7)));
    }

    private Optional<TableInfo> table(String schema, String table) throws SQLException {
        return Optional.ofNullable(Sql.one(c, "SELECT pg_get_userbyid(c.relowner), "
                + "(SELECT o.rolsuper FROM pg_roles o WHERE o.oid = c.relowner), "
                + "pg_has_role(current_user, c.relowner, 'USAGE'), has_table_privilege(c.oid, 'SELECT'), "
                + "has_table_privilege(c.oid, 'INSERT'), has_table_privilege(c.oid, 'UPDATE'), "
                + "has_table_privilege(c.oid, 'DELETE') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')",
                rs -> new TableInfo(rs.getString(1), rs.getBoolean(2), rs.getBoolean(3), rs.getBoolean(4),
                        rs.getBoolean(5), rs.getBoolean(6), rs.getBoolean(7)), schema, table));
    }

    private boolean schemaPrivilege(String schema, String privilege) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT has_schema_privilege(n.oid, ?) FROM pg_namespace n WHERE n.nspname = ?")) {
            ps.setString(1, privilege);
            ps.setString(2, schema);
            try (ResultSet rs = ps.executeQuery()) {
                return !rs.next() || rs.getBoolean(1);
            }
        }
    }

    private String quotedRole() {
        return Ident.quote(role);
    }

    private void error(String step, String path, String message, String grant) {
        findings.add(new PrivilegeFinding(Severity.ERROR, step, path, message, grant));
    }

    private void warning(String step, String path, String message, String grant) {
        findings.add(new PrivilegeFinding(Severity.WARNING, step, path, message, grant));
    }
}
