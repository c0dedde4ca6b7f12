package dev.shapeshift.coordinator.drive;

import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.ExpandPlan;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Validation;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The expand step: applies the spec's additive DDL in one transaction with a short
 * {@code lock_timeout}, unless the new shape already exists (a coordinator that died between the
 * DDL's commit and the phase move, or an operator who ran the DDL by hand). A failure carries the
 * database's own message and the fix, by SQLState.
 */
final class Expander {
    private static final Logger log = LoggerFactory.getLogger(Expander.class);
    static final String LOCK_TIMEOUT = "5s";

    private final Database db;

    Expander(Database db) {
        this.db = db;
    }

    /** Returns the statements applied (empty when the new shape was already there). */
    List<String> expand(MigrationSpec spec) {
        String name = spec.name();
        try (Connection c = db.connect("coordinator")) {
            if (shapeExists(spec, c)) {
                log.info("new shape already present, no DDL migration={}", name);
                return List.of();
            }
            Validation v = SpecValidator.check(spec, c);
            if (!v.valid()) {
                throw new ShapeshiftException(ErrorCode.SPEC_INVALID, "expand of " + name + " refused: the spec does "
                        + "not fit the database now: " + SpecValidator.invalid(name, v.problems()).getMessage()
                        + " — fix: change the database to fit the spec, or roll the migration back (`shapeshift phase "
                        + "advance " + name + " --to rolled-back --reason …`) and register a corrected spec");
            }
            ExpandPlan plan = v.expand();
            apply(c, plan.statements());
            log.info("expand applied migration={} statements={} origin={}", name, plan.statements().size(), plan.origin());
            return plan.statements();
        } catch (SQLException e) {
            throw failure(name, spec, e);
        }
    }

    private static boolean shapeExists(MigrationSpec spec, Connection c) {
        try {
            SpecValidator.resolveExpanded(spec.name(), spec, c);
            return true;
        } catch (ShapeshiftException e) {
            if (e.code() == ErrorCode.SPEC_INVALID) {
                return false;
            }
            throw e;
        }
    }

    private static void apply(Connection c, List<String> statements) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT + "'");
            for (String ddl : statements) {
                s.execute(ddl);
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** The database's message, its SQLState, and what the operator does about it. */
    static ShapeshiftException failure(String name, MigrationSpec spec, SQLException e) {
        String state = e.getSQLState();
        String message = "expand of " + name + " failed: " + firstLine(e.getMessage()) + " (SQLState " + state
                + ") — fix: " + fix(state, spec);
        return new ShapeshiftException(dev.shapeshift.db.SqlStates.classify(e), message, e);
    }

    static String fix(String sqlState, MigrationSpec spec) {
        String table = spec.source().schema() + "." + spec.source().table();
        if (sqlState == null) {
            return "check the database connection; the driver retries with back-off";
        }
        return switch (sqlState) {
            case "42501" -> "give the coordinator's database user the right to run the expand DDL (`shapeshift plan "
                    + spec.name() + "` prints it): ownership of " + table + " for ALTER TABLE, CREATE on the target "
                    + "schema for a new table (GRANT CREATE ON SCHEMA " + spec.targetSchema() + " TO <user>) — or run "
                    + "the DDL yourself as the owner; the driver retries with back-off and finds the new shape";
            case "55P03", "57014" -> "a transaction holds a lock on " + table + " longer than the " + LOCK_TIMEOUT
                    + " lock_timeout; the driver retries with back-off (find the blocker in pg_stat_activity / pg_locks)";
            case "42701", "42P07" -> "part of the new shape exists with another definition; compare it with "
                    + "`shapeshift plan " + spec.name() + "` and fix or drop it, then the driver retries";
            default -> sqlState.startsWith("08") || sqlState.startsWith("57P")
                    ? "the database is unreachable or restarting; the driver retries with back-off"
                    : "correct what the database reports (or run the DDL yourself); the driver retries with back-off";
        };
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
